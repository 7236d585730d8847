"""Listing 1.3.2: an MLP classifies MNIST digits (the book repository's mlp-mnist-1.3.2.py).

Two hidden Dense(256) layers, each followed by ReLU and Dropout(0.45), then a 10-way softmax;
Adam, 20 epochs, batches of 128. The book reports 98.3% test accuracy; this script's runs, with
their numbers, are under results/mlp_mnist/. Read it beside the book from `load_data` down: the
listing's lines in its order, every other line tagged (the reasons: docs/listings.md).

    python mlp_mnist.py                  # the listing's settings on Keras' own fit()
    python mlp_mnist.py --hidden-units 256-256-256 --optimizer sgd --dropout 0.4  # Table 1.3.2
"""
from companion import cli  # isort: skip
import distribute  # isort: skip  (not in the listing: --distribute's flags, distribute/)
import speed  # isort: skip  (not in the listing: --fast's flags, speed/)


def build_parser():  # not in the listing: the flags, the listing's values as defaults
    parser = cli.training_parser(__doc__, epochs=20, batch_size=128, optimizer="adam", dropout=0.45)
    parser.add_argument("--hidden-units", type=cli.layer_widths, default="256-256",
                        metavar="WIDTHS", help="the hidden Dense layers' widths: 256-256-256 "
                                               "is a Table 1.3.2 row (see README)")
    parser.add_argument("--l2", type=cli.non_negative_float, default=0.0, metavar="FACTOR",
                        help="L2 penalty on every hidden kernel, e.g. 0.001; 0 for none")
    parser.add_argument("--activation", choices=["relu", "none"], default="relu",
                        help="after each hidden layer; none: Activation('linear'), a linear MLP")
    distribute.add_arguments(parser)
    speed.add_arguments(parser, listing="mlp")
    return parser


if __name__ == "__main__":  # not in the listing: the flags, checked before Keras loads
    cli.parse(build_parser())

from companion import callbacks, lifecycle, mnist, records  # isort: skip  (not in the listing)
import keras  # not in the listing's spelling: Keras 3's home, not tensorflow.keras
import numpy as np
from keras import layers
from keras.regularizers import l2


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
    """The listing's steps, for x_train and x_test: one row of pixels per image, in [0, 1]."""
    # image dimensions (assumed square)
    image_size = images.shape[1]
    input_size = image_size * image_size
    # resize and normalize
    images = np.reshape(images, [-1, input_size])
    return images.astype("float32") / 255


# network parameters (not in the listing: the flags' values, by default the listing's)
def build_model(input_size, num_labels, hidden_units, dropout, l2_factor, activation):
    # model is a 3-layer MLP with ReLU and dropout after each layer
    model = keras.Sequential()
    model.add(keras.Input(shape=(input_size,)))  # not in the listing's spelling: input_dim=
    regularizer = l2(l2_factor) if l2_factor else None  # not in the listing: --l2
    for units in hidden_units:  # not in the listing: its two blocks as a loop (Table 1.3.2)
        model.add(layers.Dense(units, kernel_regularizer=regularizer))
        model.add(layers.Activation(activation))
        model.add(layers.Dropout(dropout))
    model.add(layers.Dense(num_labels))
    # this is the output for one-hot vector
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
    # validate the model on test dataset to determine generalization
    # (not in the listing: the loss kept, the progress display for verbose=0)
    loss, acc = model.evaluate(x_test, y_test, batch_size=args.batch_size, callbacks=[progress])
    print("\nTest accuracy: %.1f%%" % (100.0 * acc))
    return epoch_log, loss, acc


def main(argv=None):  # not in the listing: the steps above in order, and the run's record
    args = cli.parse(build_parser(), argv)
    distribution = distribute.use(args)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test), num_labels, source = load_data(args.dry_run)
    run = records.Run(__file__, args, distribution=distribution)  # once the data is known good
    x_train, x_test = preprocess(x_train), preprocess(x_test)
    model = build_model(x_train.shape[1], num_labels, args.hidden_units, args.dropout, args.l2,
                        "linear" if args.activation == "none" else args.activation)
    epoch_log, loss, acc = train_and_test(model, x_train, y_train, x_test, y_test, args)
    return records.save_classifier_results(
        run, model=model, epoch_log=epoch_log, x_test=x_test, y_test=y_test, test_loss=loss,
        test_accuracy=acc, data_source=source, train_samples=len(x_train))


if __name__ == "__main__":
    lifecycle.run_main(main)
