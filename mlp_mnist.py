"""Listing 1.3.2: an MLP classifies MNIST digits.

The book repository's file: mlp-mnist-1.3.2.py.

Two hidden Dense layers of 256 units, each followed by ReLU and Dropout(0.45), then a 10-way
softmax; Adam, 20 epochs, batches of 128 (Atienza, "Advanced Deep Learning with Keras",
Chapter 1). The book's code reports 98.3% test accuracy; this script's own runs, with their
numbers, are under results/mlp_mnist/.

    python mlp_mnist.py                  # the listing as printed
    python mlp_mnist.py --hidden-units 256-256-256 --optimizer sgd --dropout 0.4  # Table 1.3.2
    python mlp_mnist.py --dry-run        # smoke test: a slice of MNIST, one epoch
    python mlp_mnist.py --distribute mirrored  # every local GPU (see README)
"""
# companion first: it imports Keras with TensorFlow's native start-up chatter held back
from companion import callbacks, cli, distribute, fused, mnist, records, xla_dropout  # isort: skip

import keras
import numpy as np
from keras import layers
from keras.regularizers import l2


def build_parser():
    # the book's settings; the speed settings per backend come from cli.speed_defaults
    parser = cli.training_parser(__doc__, listing="mlp", epochs=20, batch_size=128,
                                 optimizer="adam", dropout=0.45)
    parser.add_argument("--hidden-units", type=cli.layer_widths, default="256-256",
                        metavar="WIDTHS",
                        help="widths of the hidden Dense layers: 256-256 is the listing, "
                             "256-256-256 a Table 1.3.2 row (see README)")
    parser.add_argument("--l2", type=cli.non_negative_float, default=0.0, metavar="FACTOR",
                        help="L2 penalty on every hidden kernel, e.g. 0.001; 0 for none")
    parser.add_argument("--activation", choices=["relu", "none"], default="relu",
                        help="after each hidden layer; none makes the MLP linear")
    # (--activation none builds Activation('linear'), Keras' name for the identity)
    return parser


def preprocess(images):
    """The listing's "image dimensions" and "resize and normalize" steps: each square image
    becomes one row of image_size * image_size pixels, scaled to [0, 1]."""
    # image dimensions (assumed square)
    image_size = images.shape[1]
    input_size = image_size * image_size
    # resize and normalize
    images = np.reshape(images, [-1, input_size])
    return images.astype("float32") / 255


def build_model(input_size, num_labels, hidden_units, dropout, l2_factor, activation):
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
    batch_size = args.batch_size
    hidden_units = args.hidden_units
    dropout = args.dropout
    activation = "linear" if args.activation == "none" else args.activation
    model = build_model(x_train.shape[1], num_labels, hidden_units, dropout, args.l2, activation)
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
    # validate the model on test dataset to determine generalization
    loss, acc = model.evaluate(x_test, y_test, batch_size=batch_size, callbacks=[progress])
    print("\nTest accuracy: %.1f%%" % (100.0 * acc))
    # the listing's plot_model(model, to_file='mlp-mnist.png') is written here, with the rest
    return records.save_classifier_results(run, model, epoch_log, x_test, y_test, loss, acc,
                                           source, len(x_train))


if __name__ == "__main__":
    cli.run_main(main)
