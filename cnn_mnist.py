"""Listing 1.4.1: a CNN classifies MNIST digits (the book repository's cnn-mnist-1.4.1.py).

Three Conv2D(64, 3x3, ReLU) layers with MaxPooling2D(2) between them, then Flatten, Dropout(0.2)
and a 10-way softmax; Adam, 10 epochs, batches of 128. The book reports 99.4% test accuracy;
this script's runs, with their numbers, are under results/cnn_mnist/. Read it beside the book
from `load_data` down: the listing's lines in its order, every other line tagged (the reasons:
docs/listings.md).

    python cnn_mnist.py                        # the listing's settings on Keras' own fit()
    python cnn_mnist.py --optimizer rmsprop    # a Table 1.4.1 row
"""
from companion import cli  # isort: skip
import distribute  # isort: skip  (not in the listing: --distribute's flags, distribute/)
import speed  # isort: skip  (not in the listing: --fast's flags, speed/)


def build_parser():  # not in the listing: the flags, the listing's values as defaults
    parser = cli.training_parser(__doc__, epochs=10, batch_size=128, optimizer="adam", dropout=0.2)
    parser.add_argument("--filters", type=cli.layer_width, default=64, metavar="N",
                        help="filters in each of the three Conv2D layers")
    parser.add_argument("--kernel-size", type=cli.window_size, default=3, metavar="N",
                        help="height and width of each convolution kernel")
    parser.add_argument("--pool-size", type=cli.window_size, default=2, metavar="N",
                        help="height and width of each max-pooling window")
    distribute.add_arguments(parser)
    speed.add_arguments(parser, listing="cnn")
    return parser


def feature_map_problem(args, image_size=28):
    """Not in the listing: why --kernel-size and --pool-size leave the last Conv2D no feature
    map (a 'valid' Conv2D takes kernel_size - 1 pixels off, pooling divides), or None."""
    size = image_size
    for layer in ("first Conv2D", "first MaxPooling2D", "second Conv2D", "second MaxPooling2D",
                  "third Conv2D"):
        size = size - args.kernel_size + 1 if "Conv" in layer else size // args.pool_size
        if size < 1:
            return (f"argument --kernel-size/--pool-size: {args.kernel_size}x{args.kernel_size} "
                    f"kernels and {args.pool_size}x{args.pool_size} pooling leave no feature map "
                    f"after the {layer} of a {image_size}x{image_size} digit")
    return None


if __name__ == "__main__":  # not in the listing: the flags, checked before Keras loads
    cli.parse(build_parser(), check=feature_map_problem)

from companion import callbacks, lifecycle, mnist, records  # isort: skip  (not in the listing)
import keras  # not in the listing's spelling: Keras 3's home, not tensorflow.keras
import numpy as np
from keras import layers


def load_data(dry_run=False):
    # load mnist dataset
    # (not in the listing: a checked file, download or package, `source`; --dry-run's slice)
    (x_train, y_train), (x_test, y_test), source = mnist.load_data(dry_run=dry_run)
    # compute the number of labels
    num_labels = len(np.unique(y_train))
    # convert to one-hot vector
    y_train = keras.utils.to_categorical(y_train)
    y_test = keras.utils.to_categorical(y_test)
    return (x_train, y_train), (x_test, y_test), num_labels, source


def preprocess(images):
    """The listing's steps, for x_train and x_test: one channel per image, in [0, 1]."""
    # input image dimensions
    image_size = images.shape[1]
    # resize and normalize
    images = np.reshape(images, [-1, image_size, image_size, 1])
    return images.astype("float32") / 255


# network parameters (not in the listing: the flags' values, by default the listing's)
# image is processed as is (square grayscale)
def build_model(input_shape, num_labels, filters, kernel_size, pool_size, dropout):
    # model is a stack of CNN-ReLU-MaxPooling
    model = keras.Sequential()
    model.add(keras.Input(shape=input_shape))  # not in the listing's spelling: input_shape=
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
    """The listing's last lines; returns the per-epoch log, the test loss and accuracy."""
    model.summary()
    # loss function for one-hot vector
    # use of adam optimizer
    # accuracy is good metric for classification tasks
    model.compile(loss="categorical_crossentropy", optimizer=args.optimizer, metrics=["accuracy"])
    speed.apply(model, args, len(x_train))  # not in the listing: --fast, when asked for
    lifecycle.refuse_oversized(model, min(args.batch_size, len(x_train)))  # not in the listing
    epoch_log, progress = callbacks.EpochLog(), callbacks.ProgressBar()  # not in the listing
    # train the network
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              callbacks=[epoch_log, progress])
    # (not in the listing: the loss kept, the progress display for verbose=0)
    loss, acc = model.evaluate(x_test, y_test, batch_size=args.batch_size, callbacks=[progress])
    print("\nTest accuracy: %.1f%%" % (100.0 * acc))
    return epoch_log, loss, acc


def main(argv=None):  # not in the listing: the steps above in order, and the run's record
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
