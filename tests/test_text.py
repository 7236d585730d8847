"""lstm_gru_text.py: corpus, split, GloVe matrix, masking, smoke runs and one real training."""
import os
import socket

import keras
import numpy as np
import pytest

import lstm_gru_text as text
from companion import errors
from conftest import read_record, run_script
from sentiment import text_data

# The first numbers of GloVe 6B 50d's vector for "the", as in the Stanford file.
GLOVE_THE = [0.418, 0.24968, -0.41242, 0.1217, 0.34527]


@pytest.fixture(scope="module")
def corpus():
    return text_data.load_sentences()


def test_corpus_labels(corpus):
    texts, labels = corpus
    assert len(texts) == 10568 == len(labels)
    assert labels.sum() == 5242  # positive: mean rating above 0
    assert (labels == 0).sum() == 5326
    assert texts[0].startswith("The Rock is destined to be the 21st Century's new")


def test_split_is_fixed_stratified_and_complete(corpus):
    _, labels = corpus
    train, validation, test = text_data.stratified_split(labels)
    again = text_data.stratified_split(labels)
    for part, same in zip((train, validation, test), again):
        np.testing.assert_array_equal(part, same)
    assert (len(train), len(validation), len(test)) == (8455, 1056, 1057)
    everything = np.concatenate([train, validation, test])
    assert len(np.unique(everything)) == len(labels)  # disjoint and complete
    for part in (train, validation, test):
        assert abs(labels[part].mean() - labels.mean()) < 0.002
    # Pinned so that a change of split (which would change every result) cannot pass unseen.
    assert test[:5].tolist() == [9626, 4329, 8991, 3854, 2413]


@pytest.fixture(scope="module")
def tokenized():
    return text_data.rotten_tomatoes(sequence_length=40, vocab_size=20000)


def test_embedding_rows_are_glove_vectors(tokenized):
    _, word_index, _ = tokenized
    words = ["the", "movie", "qwzxvj"]
    vectors = text_data.glove_package_vectors(words)
    assert set(vectors) == {"the", "movie"}
    word_index = dict(word_index, qwzxvj=len(word_index))
    matrix = text.get_embedding_matrix(len(word_index), word_index, 50, vectors)
    np.testing.assert_allclose(matrix[word_index["the"]][:5], GLOVE_THE, rtol=1e-6)
    np.testing.assert_array_equal(matrix[word_index["movie"]], vectors["movie"])
    assert not matrix[0].any()  # padding
    assert not matrix[1].any()  # [UNK]
    assert not matrix[word_index["qwzxvj"]].any()  # a word GloVe lacks
    assert word_index[""] == 0 and word_index["[UNK]"] == 1


def test_stanford_text_file(tmp_path):
    path = tmp_path / "glove.3d.txt"
    path.write_text("the 1 2 3\nfilm -1.5 0 2.25\nunused 9 9 9\n")
    vectors = text_data.glove_text_vectors(str(path), ["the", "film", "missing"])
    assert set(vectors) == {"the", "film"}
    matrix = text.get_embedding_matrix(4, {"": 0, "[UNK]": 1, "film": 2, "the": 3}, 3, vectors)
    np.testing.assert_array_equal(matrix, [[0, 0, 0], [0, 0, 0], [-1.5, 0, 2.25], [1, 2, 3]])


@pytest.mark.parametrize("content, line", [("the 1 2 3\nfilm one two three\n", 2),
                                           ("the\nfilm\n", 1)], ids=["words", "no-numbers"])
def test_malformed_stanford_file_is_one_error(tmp_path, content, line):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(errors.UserError, match=rf"bad.txt, line {line}: not a word followed by "
                                            r"numbers"):
        text_data.glove_text_vectors(str(path), ["the", "film"])


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_vectors_that_are_not_finite_are_refused(tmp_path, value):
    path = tmp_path / "glove.txt"
    path.write_text(f"the 1 2 3\nfilm 0 {value} 1\n")
    with pytest.raises(errors.UserError, match=r"glove.txt, line 2: the vector of 'film' holds "
                                            r"values that are not finite numbers"):
        text_data.glove_text_vectors(str(path), ["the", "film"])


@pytest.mark.parametrize("flags, message", [
    (["--vocab-size", "2"], "argument --vocab-size: expected an integer from 3 to 1000000, "
                            "got '2'"),
    (["--seeds", "1,1"], "argument --seeds: each seed once, got '1,1'"),
])
def test_text_flags_out_of_range_are_one_line(flags, message):
    completed = run_script("lstm_gru_text.py", *flags)
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [f"lstm_gru_text.py: error: {message}"]


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_padding_is_masked(cell):
    keras.utils.set_random_seed(3)
    matrix = np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32)
    model = text.build_model(cell, 20, matrix, hidden_units=4, dropout=0.0,
                             learning_rate=0.001, trainable=False)
    short = np.array([[5, 6, 7, 0, 0]])
    long = np.array([[5, 6, 7, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(model.predict(short, verbose=0), model.predict(long, verbose=0),
                               rtol=1e-5)
    other_padding_value = np.array([[5, 6, 7, 9, 9]])  # the same without masking would match
    assert not np.allclose(model.predict(short, verbose=0),
                           model.predict(other_padding_value, verbose=0))
    assert model.layers[0].trainable is False


@pytest.mark.slow
def test_every_cell_in_smoke_mode(results_dir):
    completed = run_script("lstm_gru_text.py", "--dry-run", "--results-dir", results_dir)
    assert completed.returncode == 0, completed.stderr
    parent = os.path.join(results_dir, "lstm_gru_text")
    folders = sorted(os.listdir(parent))
    assert len(folders) == 3
    records = [read_record(os.path.join(parent, folder)) for folder in folders]
    assert [record["hyperparameters"]["cell"] for record in records] == ["simple", "lstm", "gru"]
    for record in records:
        assert record["data"]["train_samples"] == 1024
        assert record["embedding"]["dimensions"] == 50
        assert 0.9 < record["embedding"]["coverage"] < 1.0
        assert record["embedding"]["trainable"] is False
        assert len(record["epochs"]) == 1 and "val_accuracy" in record["epochs"][0]
    assert "Embedding: GloVe 6B 50d" in completed.stdout
    assert completed.stdout.splitlines()[-4] == "Test accuracy, %"


@pytest.mark.slow
def test_a_cell_learns_sentiment(results_dir):
    results = text.main(["--cell", "gru", "--epochs", "3", "--results-dir", results_dir])
    assert results["gru"][0] > 70.0


def test_imdb_without_network_is_one_error(monkeypatch, tmp_path, capsys):
    def no_network(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no IMDB cached there
    # said while the flags are checked, before Keras loads (it took 15-25 s)
    with pytest.raises(SystemExit) as stop:
        text.cli.parse(text.build_parser(), ["--dataset", "imdb"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.endswith(
        "error: --dataset imdb: cannot download IMDB from Keras' server (it needs internet); "
        "the default --dataset rotten-tomatoes works offline\n")
    # and where the check passed (the server answered) but the download then fails
    monkeypatch.setattr(text_data.download, "server_answers", lambda: False)
    with pytest.raises(errors.UserError) as error:
        text_data.imdb(40, 20000)
    assert str(error.value) == ("cannot download IMDB from Keras' server (it needs internet); "
                                "the default --dataset rotten-tomatoes works offline")


def test_damaged_corpus_is_one_error(tmp_path):
    damaged = tmp_path / "corpus.tsv.gz"
    damaged.write_bytes(open(text_data.CORPUS, "rb").read()[:20000])
    with pytest.raises(errors.UserError) as error:
        text_data.load_sentences(str(damaged))
    assert str(error.value).startswith(f"corpus file {damaged} is unreadable (")


def test_missing_embeddings_file_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        text.main(["--embeddings", str(tmp_path / "nope.txt"), "--results-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        f"error: argument --embeddings: no readable file at '{tmp_path / 'nope.txt'}'")


@pytest.mark.parametrize("alteration", ["ratings negated", "ratings shuffled"])
def test_an_altered_corpus_is_refused_before_training(tmp_path, alteration):
    """A corpus that reads well but whose ratings were negated or shuffled against the
    sentences would train to chance and be recorded as a run (issue 43): one line instead."""
    import gzip

    import numpy as np

    with gzip.open(text_data.CORPUS, "rt", encoding="utf-8") as f:
        header, *rows = [line.rstrip("\n").split("\t") for line in f]
    ratings = [row[1] for row in rows]
    if alteration == "ratings negated":
        ratings = [str(-float(rating)) for rating in ratings]
    else:
        ratings = list(np.random.default_rng(0).permutation(ratings))
    altered = tmp_path / "corpus.tsv.gz"
    with gzip.open(altered, "wt", encoding="utf-8") as f:
        for row in [header] + [[row[0], rating, row[2]] for row, rating in zip(rows, ratings)]:
            f.write("\t".join(row) + "\n")
    with pytest.raises(errors.UserError, match="is not the committed corpus .its SHA-256 "
                                               "differs"):
        text_data.load_sentences(str(altered))


@pytest.mark.parametrize("pooling, bidirectional", [("mean", False), ("last", True)])
def test_the_variants_read_every_word_and_keep_the_padding_masked(pooling, bidirectional):
    """--pooling mean and --bidirectional (issue 42): the layers a reader would try, with the
    padding still masked (mean pooling and a bidirectional layer take the mask)."""
    keras.utils.set_random_seed(3)
    matrix = np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32)
    model = text.build_model("gru", 20, matrix, hidden_units=4, dropout=0.0,
                             learning_rate=0.001, trainable=False, pooling=pooling,
                             bidirectional=bidirectional)
    names = [type(layer).__name__ for layer in model.layers]
    assert names == ["Embedding", "Bidirectional" if bidirectional else "GRU",
                     *(["GlobalAveragePooling1D"] if pooling == "mean" else []), "Dense"]
    short, long = np.array([[5, 6, 7, 0, 0]]), np.array([[5, 6, 7, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(model.predict(short, verbose=0), model.predict(long, verbose=0),
                               rtol=1e-5)


def test_the_linear_baseline_writes_a_record_per_model(results_dir):
    """text_baseline.py on the same split: one record per model, its accuracies read from the
    validation and test sentences, the regularisation one of the grid's."""
    import text_baseline

    completed = run_script("text_baseline.py", "--model", "all", "--dry-run", "--results-dir",
                           results_dir)
    assert completed.returncode == 0, completed.stderr
    parent = os.path.join(results_dir, "text_baseline")
    records = [read_record(os.path.join(parent, name)) for name in sorted(os.listdir(parent))]
    assert sorted(r["hyperparameters"]["model"] for r in records) == ["logreg", "nb", "nbsvm"]
    for record in records:
        assert record["data"]["test_samples"] == 256
        assert 0.5 < record["test_accuracy"] <= 1.0
        grid = text_baseline.ALPHA_GRID if record["hyperparameters"]["model"] == "nb" \
            else text_baseline.C_GRID
        assert record["chosen_regularisation"] in grid
