"""Listing 1.5.1: a recurrent network reads each MNIST digit row by row.

The book repository's file: rnn-mnist-1.5.1.py.

Each 28x28 image is 28 timesteps of 28 pixels. SimpleRNN(256, dropout=0.2) then a 10-way
softmax; SGD, 20 epochs, batches of 128 (Atienza, "Advanced Deep Learning with Keras",
Chapter 1). The book's code reports 98.3% test accuracy; this script's own runs, with their
numbers, are under results/rnn_mnist/. `--cell lstm` or `--cell gru` swaps the recurrent layer,
as the chapter's notes show.

    python rnn_mnist.py                                  # the listing as printed
    python rnn_mnist.py --units 512                      # a Table 1.5.1 row
    python rnn_mnist.py --cell lstm                      # the same model with an LSTM cell
    python rnn_mnist.py --dry-run                        # smoke test: a slice of MNIST, one epoch
    python rnn_mnist.py --distribute mirrored            # every local GPU (see README)
"""
# companion first: it imports Keras with TensorFlow's native start-up chatter held back
from companion import callbacks, cli, distribute, fused, mnist, records, xla_dropout  # isort: skip

import keras
import numpy as np
from keras import layers

CELLS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def build_parser():
    # the book's settings; the speed settings per backend come from cli.speed_defaults
    parser = cli.training_parser(__doc__, listing="rnn", epochs=20, batch_size=128,
                                 optimizer="sgd", dropout=0.2)
    parser.add_argument("--units", type=cli.positive_int, default=256, metavar="N",
                        help="units in the recurrent layer")
    parser.add_argument("--cell", choices=sorted(CELLS), default="simple",
                        help="recurrent layer: SimpleRNN (the listing), LSTM or GRU")
    return parser


def preprocess(images):
    """The listing's "resize and normalize" step: each square image becomes image_size
    timesteps of image_size features, scaled to [0, 1]."""
    # resize and normalize
    image_size = images.shape[1]
    images = np.reshape(images, [-1, image_size, image_size])
    return images.astype("float32") / 255


def build_model(input_shape, num_labels, units, dropout, cell):
    # model is RNN with 256 units, input is 28-dim vector 28 timesteps
    model = keras.Sequential()
    # Keras 3 declares the input with Input(); the listing passes input_shape= to SimpleRNN instead
    model.add(keras.Input(shape=input_shape))
    if cell == "simple":
        model.add(layers.SimpleRNN(units=units, dropout=dropout))
    else:  # not in the listing: --cell lstm|gru, the notes' other recurrent layers
        model.add(CELLS[cell](units=units, dropout=dropout))
    model.add(layers.Dense(num_labels))
    model.add(layers.Activation("softmax"))
    return model


def main(argv=None):
    args = cli.parse(build_parser(), argv)
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
    # network parameters
    input_shape = x_train.shape[1:]
    batch_size = args.batch_size
    units = args.units
    dropout = args.dropout
    model = build_model(input_shape, num_labels, units, dropout, args.cell)
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
    # the listing prints acc without computing it; the evaluate line is the MLP and CNN listings'
    loss, acc = model.evaluate(x_test, y_test, batch_size=batch_size, callbacks=[progress])
    print("\nTest accuracy: %.1f%%" % (100.0 * acc))
    # the listing's plot_model(model, to_file='rnn-mnist.png') is written here, with the rest
    return records.save_classifier_results(run, model, epoch_log, x_test, y_test, loss, acc,
                                           source, len(x_train))


if __name__ == "__main__":
    cli.run_main(main)
