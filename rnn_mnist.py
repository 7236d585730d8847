"""Listing 1.5.1: an RNN reads MNIST digits row by row (the book repository's rnn-mnist-1.5.1.py).

Each 28x28 image is 28 timesteps of 28 pixels: SimpleRNN(256, dropout=0.2), then a 10-way
softmax; SGD, 20 epochs, batches of 128. The book reports 98.3% test accuracy; this script's
runs, with their numbers, are under results/rnn_mnist/. Read it beside the book from `load_data`
down: the listing's lines in its order, every other line tagged (the reasons: docs/listings.md).

    python rnn_mnist.py                       # the listing's settings on Keras' own fit()
    python rnn_mnist.py --units 512           # a Table 1.5.1 row
    python rnn_mnist.py --cell lstm           # the notes' LSTM in its place (or gru)
"""
from companion import cli  # isort: skip
import distribute  # isort: skip  (not in the listing: --distribute's flags, distribute/)
import speed  # isort: skip  (not in the listing: --fast's flags, speed/)

def build_parser():  # not in the listing: the flags, the listing's values as defaults
    parser = cli.training_parser(__doc__, epochs=20, batch_size=128, optimizer="sgd", dropout=0.2)
    parser.add_argument("--units", type=cli.layer_width, default=256, metavar="N",
                        help="units in the recurrent layer")
    parser.add_argument("--cell", choices=("simple", "lstm", "gru"), default="simple",
                        help="recurrent layer: SimpleRNN (the listing), LSTM or GRU")
    distribute.add_arguments(parser)
    speed.add_arguments(parser, listing="rnn")
    return parser


if __name__ == "__main__":  # not in the listing: the flags, checked before Keras loads
    cli.parse(build_parser())

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
    """The listing's steps, for x_train and x_test: one timestep per row, in [0, 1]."""
    # resize and normalize
    image_size = images.shape[1]
    images = np.reshape(images, [-1, image_size, image_size])
    return images.astype("float32") / 255


# network parameters (not in the listing: the flags' values, by default the listing's)
def build_model(input_shape, num_labels, units, dropout, cell):
    # model is RNN with 256 units, input is 28-dim vector 28 timesteps
    model = keras.Sequential()
    model.add(keras.Input(shape=input_shape))  # not in the listing's spelling: input_shape=
    if cell == "simple":  # not in the listing: --cell lstm|gru, the notes' other layers
        model.add(layers.SimpleRNN(units=units, dropout=dropout))
    else:
        model.add(getattr(layers, cell.upper())(units=units, dropout=dropout))  # LSTM, GRU
    model.add(layers.Dense(num_labels))
    model.add(layers.Activation("softmax"))
    return model


def train_and_test(model, x_train, y_train, x_test, y_test, args):
    """The listing's last lines; returns the per-epoch log, the test loss and accuracy."""
    model.summary()
    # loss function for one-hot vector
    # use of sgd optimizer
    # accuracy is good metric for classification tasks
    model.compile(loss="categorical_crossentropy", optimizer=args.optimizer, metrics=["accuracy"])
    speed.apply(model, args, len(x_train))  # not in the listing: --fast, when asked for
    lifecycle.refuse_oversized(model, min(args.batch_size, len(x_train)))  # not in the listing
    epoch_log, progress = callbacks.EpochLog(), callbacks.ProgressBar()  # not in the listing
    # train the network
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              callbacks=[epoch_log, progress])
    # (the book repository's line, not the printed listing's; the loss kept, progress shown)
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
    model = build_model(x_train.shape[1:], num_labels, args.units, args.dropout, args.cell)
    epoch_log, loss, acc = train_and_test(model, x_train, y_train, x_test, y_test, args)
    return records.save_classifier_results(
        run, model=model, epoch_log=epoch_log, x_test=x_test, y_test=y_test, test_loss=loss,
        test_accuracy=acc, data_source=source, train_samples=len(x_train))


if __name__ == "__main__":
    lifecycle.run_main(main)
