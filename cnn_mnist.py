"""Listing 1.4.1: a CNN classifies MNIST digits.

The book repository's file: cnn-mnist-1.4.1.py.

Three Conv2D(64, 3x3, ReLU) layers with MaxPooling2D(2) between them, then Flatten,
Dropout(0.2) and a 10-way softmax; Adam, 10 epochs, batches of 128 (Atienza, "Advanced Deep
Learning with Keras", Chapter 1). The book's code reports 99.4% test accuracy; this script's own
runs, with their numbers, are under results/cnn_mnist/.

    python cnn_mnist.py                        # the listing as printed
    python cnn_mnist.py --optimizer rmsprop    # a Table 1.4.1 row
    python cnn_mnist.py --dry-run              # smoke test: a slice of MNIST, one epoch
    python cnn_mnist.py --distribute mirrored  # every local GPU (see README)
"""
# companion first: it imports Keras with TensorFlow's native start-up chatter held back
from companion import callbacks, cli, distribute, fused, mnist, records, xla_dropout  # isort: skip

import keras
import numpy as np
from keras import layers


def build_parser():
    # the book's settings; the speed settings per backend come from cli.speed_defaults
    parser = cli.training_parser(__doc__, listing="cnn", epochs=10, batch_size=128,
                                 optimizer="adam", dropout=0.2)
    parser.add_argument("--filters", type=cli.positive_int, default=64, metavar="N",
                        help="filters in each of the three Conv2D layers")
    parser.add_argument("--kernel-size", type=cli.positive_int, default=3, metavar="N",
                        help="height and width of each convolution kernel")
    parser.add_argument("--pool-size", type=cli.positive_int, default=2, metavar="N",
                        help="height and width of each max-pooling window")
    return parser


def feature_map_problem(args, image_size=28):
    """Why --kernel-size and --pool-size leave no feature map for the last Conv2D, or None:
    each Conv2D ('valid') takes kernel_size - 1 pixels off, each MaxPooling2D divides by
    pool_size, rounding down. Known from arithmetic, so refused before any data is loaded."""
    size = image_size
    for layer in ("first Conv2D", "first MaxPooling2D", "second Conv2D", "second MaxPooling2D",
                  "third Conv2D"):
        size = size - args.kernel_size + 1 if "Conv" in layer else size // args.pool_size
        if size < 1:
            return (f"argument --kernel-size/--pool-size: {args.kernel_size}x{args.kernel_size} "
                    f"kernels and {args.pool_size}x{args.pool_size} pooling leave no feature map "
                    f"after the {layer} of a {image_size}x{image_size} digit")
    return None


def preprocess(images):
    """The listing's "resize and normalize" step: each square image gets one channel
    (image_size x image_size x 1), scaled to [0, 1]."""
    # input image dimensions
    image_size = images.shape[1]
    # resize and normalize
    images = np.reshape(images, [-1, image_size, image_size, 1])
    return images.astype("float32") / 255


def build_model(input_shape, num_labels, filters, kernel_size, pool_size, dropout):
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
    if dropout:
        model.add(layers.Dropout(dropout))
    # output layer is 10-dim one-hot vector
    model.add(layers.Dense(num_labels))
    model.add(layers.Activation("softmax"))
    return model


def main(argv=None):
    args = cli.parse(build_parser(), argv, check=feature_map_problem)
    # --distribute: one device unless asked for more; set up before the model is built
    distribution = distribute.use(args)
    run = records.Run(__file__, args, distribution=distribution)
    keras.utils.set_random_seed(args.seed)
    # load mnist dataset
    (x_train, y_train), (x_test, y_test), source = mnist.load_data(dry_run=args.dry_run)
    # compute the number of labels
    num_labels = len(np.unique(y_train))
    # convert to one-hot vector
    y_train = keras.utils.to_categorical(y_train)
    y_test = keras.utils.to_categorical(y_test)
    x_train = preprocess(x_train)
    x_test = preprocess(x_test)
    # image is processed as is (square grayscale)
    input_shape = x_train.shape[1:]
    batch_size = args.batch_size
    kernel_size = args.kernel_size
    pool_size = args.pool_size
    filters = args.filters
    dropout = args.dropout
    model = build_model(input_shape, num_labels, filters, kernel_size, pool_size, dropout)
    model.summary()
    # loss function for one-hot vector; accuracy is a good metric for classification tasks;
    # the speed settings (--jit-compile, --steps-per-execution) change how fast, not what
    model.compile(loss="categorical_crossentropy", optimizer=args.optimizer, metrics=["accuracy"],
                  **cli.speed_settings(args, len(x_train)))
    # not in the listing: on JAX, each call's steps as one compiled program (companion/fused.py)
    fused.fuse_executions(model)
    # not in the listing: on TensorFlow with XLA on a CPU, the same dropout masks by a faster
    # path (companion/xla_dropout.py)
    xla_dropout.use_philox(model)
    # train the network
    epoch_log = callbacks.EpochLog()
    # not in the listing: a progress display that fits where the output goes (records.py)
    progress = callbacks.ProgressBar()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=batch_size,
              callbacks=[epoch_log, progress])
    loss, acc = model.evaluate(x_test, y_test, batch_size=batch_size, callbacks=[progress])
    print("\nTest accuracy: %.1f%%" % (100.0 * acc))
    # the listing's plot_model(model, to_file='cnn-mnist.png') is written here, with the rest
    return records.save_classifier_results(run, model, epoch_log, x_test, y_test, loss, acc,
                                           source, len(x_train))


if __name__ == "__main__":
    cli.run_main(main)
