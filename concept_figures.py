"""The chapter's concept figures, computed with Keras and drawn with matplotlib.

Writes a new folder results/figures/<UTC start time>/ (under --results-dir) holding:
  activations.png          Table 1.3.1, Figures 1.3.5 and 1.3.6: relu, softplus, elu, selu,
                           sigmoid and tanh from keras.activations
  convolution_steps.png    the notes' example: a 3x3 input, a 2x2 kernel, stride 1, no padding,
                           each step with its sum, ending in the 2x2 map
  convolution_digit.png    Figures 1.4.2 and 1.4.3: a 3x3 kernel at two neighbouring positions
                           on an MNIST digit
  classic_kernels.png      Table 5.3: six classic kernels applied to an MNIST digit
  feature_maps.png         Table 5.2: the trained CNN listing's maps at its three conv layers
  vanishing_gradients.png  gradient norms per timestep (SimpleRNN, LSTM, GRU on MNIST read as
                           28 rows and as 784 pixels) and per layer (a deep MLP with sigmoid
                           vs ReLU), log scale
  comparison.md            the chapter's MLP / CNN / RNN comparison with measured columns
  record.json              the numbers behind each figure ("numbers"), with the run's record

    python concept_figures.py               # all of them (trains the CNN listing for 2 epochs)
    python concept_figures.py --only kernels,activations
    python concept_figures.py --dry-run     # smoke test: small data, no real training
"""
import argparse
import glob
import os

from companion import cli  # isort: skip

FIGURES = ["activations", "convolution", "kernels", "feature_maps", "gradients", "comparison"]


def figure_list(text):
    names = text.split(",")
    unknown = [name for name in names if name not in FIGURES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown figure {unknown[0]!r} (choose from {', '.join(FIGURES)})")
    return names


def build_parser():
    parser = cli.new_parser(__doc__)
    parser.add_argument("--only", type=figure_list, default=",".join(FIGURES), metavar="NAMES",
                        help=f"comma-separated subset of {','.join(FIGURES)}")
    parser.add_argument("--cnn-epochs", type=cli.int_range(1, 1_000), default=2, metavar="N",
                        help="epochs of the CNN listing trained for the feature maps")
    cli.add_common_arguments(parser, dry_run="smoke test: a slice of MNIST, no real training")
    return parser


if __name__ == "__main__":  # the flags are checked before Keras is imported
    cli.parse(build_parser(), results_folder="figures")

from companion import callbacks, errors, lifecycle, mnist, records  # isort: skip
import keras
import matplotlib.pyplot as plt
import numpy as np

import cnn_mnist
import mlp_mnist
import rnn_mnist
from tables import results_index

# Table 1.3.1's constants for selu (also keras.activations.selu's)
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
ACTIVATIONS = ["relu", "softplus", "elu", "selu", "sigmoid", "tanh"]

# The notes' worked example: a 3x3 input and a 2x2 kernel, stride 1, padding 0.
EXAMPLE_INPUT = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=np.float32)
EXAMPLE_KERNEL = np.array([[1, 0], [-1, 2]], dtype=np.float32)

# Table 5.3
CLASSIC_KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "edge detection 1": np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
    "edge detection 2": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "box blur": np.ones((3, 3)) / 9,
    "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
}


# --- 1. activations -------------------------------------------------------------------------

def formula(name, x):
    """Table 1.3.1's definitions, written out with NumPy (elu with a = 1, as Keras' default)."""
    elu = np.where(x >= 0, x, np.expm1(np.minimum(x, 0)))
    return {"relu": np.maximum(0, x), "softplus": np.log1p(np.exp(x)), "elu": elu,
            "selu": SELU_SCALE * np.where(x >= 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
            "sigmoid": 1 / (1 + np.exp(-x)), "tanh": np.tanh(x)}[name]


def keras_activation(name, x):
    return keras.ops.convert_to_numpy(getattr(keras.activations, name)(
        keras.ops.convert_to_tensor(x.astype(np.float32))))


def activations_figure():
    x = np.linspace(-5, 5, 401)
    figure, axes = plt.subplots(2, 3, figsize=(11, 6.5))
    for axis, name in zip(axes.flat, ACTIVATIONS):
        axis.plot(x, keras_activation(name, x), linewidth=2)
        axis.axhline(0, color="0.6", linewidth=0.8)
        axis.axvline(0, color="0.6", linewidth=0.8)
        axis.set_title(f"keras.activations.{name}")
        axis.grid(alpha=0.3)
    figure.suptitle("Table 1.3.1: common activation functions (Figures 1.3.5, 1.3.6)")
    points = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    numbers = {name: dict(zip(map(str, points), keras_activation(name, points).tolist()))
               for name in ACTIVATIONS}
    return figure, numbers


# --- 2. convolution step by step --------------------------------------------------------------

def convolution_steps(image, kernel):
    """[(row, column, products, sum)] of a stride-1, unpadded convolution (as Keras computes
    it: cross-correlation, the kernel not flipped), and the resulting map."""
    height = image.shape[0] - kernel.shape[0] + 1
    width = image.shape[1] - kernel.shape[1] + 1
    steps, result = [], np.zeros((height, width), dtype=np.float32)
    for row in range(height):
        for column in range(width):
            window = image[row:row + kernel.shape[0], column:column + kernel.shape[1]]
            products = window * kernel
            result[row, column] = products.sum()
            steps.append((row, column, products, float(products.sum())))
    return steps, result


def keras_convolution(image, kernel, padding="valid"):
    """The same with keras.ops.conv: one image, one channel in, one out."""
    output = keras.ops.conv(image[None, :, :, None].astype(np.float32),
                            kernel[:, :, None, None].astype(np.float32), strides=1,
                            padding=padding)
    return keras.ops.convert_to_numpy(output)[0, :, :, 0]


def draw_grid(axis, values, highlight=None, title="", fmt="{:g}"):
    axis.imshow(np.zeros_like(values), cmap="Greys", vmin=0, vmax=1)
    for (row, column), value in np.ndenumerate(values):
        axis.text(column, row, fmt.format(value), ha="center", va="center", fontsize=12)
    if highlight is not None:
        row, column, size_h, size_w = highlight
        axis.add_patch(plt.Rectangle((column - 0.5, row - 0.5), size_w, size_h, fill=True,
                                     alpha=0.25, color="tab:orange"))
    axis.set_xticks(np.arange(-0.5, values.shape[1]), minor=True)
    axis.set_yticks(np.arange(-0.5, values.shape[0]), minor=True)
    axis.grid(which="minor", color="black", linewidth=1)
    axis.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    axis.set_title(title, fontsize=10)


def convolution_figures(digit):
    steps, result = convolution_steps(EXAMPLE_INPUT, EXAMPLE_KERNEL)
    steps_figure, axes = plt.subplots(1, len(steps) + 2, figsize=(3 * (len(steps) + 2), 3.4))
    draw_grid(axes[0], EXAMPLE_KERNEL, title="2x2 kernel")
    kh, kw = EXAMPLE_KERNEL.shape
    for axis, (row, column, products, total) in zip(axes[1:], steps):
        terms = " + ".join(f"{value:g}" for value in products.flat)
        draw_grid(axis, EXAMPLE_INPUT, highlight=(row, column, kh, kw),
                  title=f"step ({row},{column}): {terms} = {total:g}")
    draw_grid(axes[-1], result, title="2x2 feature map")
    steps_figure.suptitle("A 3x3 input convolved with a 2x2 kernel, stride 1, padding 0")

    kernel = CLASSIC_KERNELS["edge detection 2"]
    digit_figure, axes = plt.subplots(1, 3, figsize=(12, 4.4))
    feature_map = keras_convolution(digit, kernel)
    # show the kernel where it responds most, on the stroke, and one pixel to the right
    row, first = np.unravel_index(np.argmax(np.abs(feature_map[:, :-1])),
                                  feature_map[:, :-1].shape)
    for axis, column, label in [(axes[0], first, "t_n"), (axes[1], first + 1, "t_n+1")]:
        axis.imshow(digit, cmap="gray")
        axis.add_patch(plt.Rectangle((column - 0.5, row - 0.5), 3, 3, fill=False,
                                     edgecolor="tab:orange", linewidth=2))
        value = float((digit[row:row + 3, column:column + 3] * kernel).sum())
        axis.set_title(f"{label}: kernel at ({row},{column}) -> {value:.3g}")
        axis.axis("off")
    axes[2].imshow(feature_map, cmap="gray")
    axes[2].add_patch(plt.Rectangle((first - 0.5, row - 0.5), 2, 1, fill=False,
                                    edgecolor="tab:orange", linewidth=2))
    axes[2].set_title(f"feature map {feature_map.shape[0]}x{feature_map.shape[1]}")
    axes[2].axis("off")
    digit_figure.suptitle("A 3x3 kernel slides over a digit with stride 1 (Figures 1.4.2, 1.4.3)")
    numbers = {"input": EXAMPLE_INPUT.tolist(), "kernel": EXAMPLE_KERNEL.tolist(),
               "steps": [{"position": [r, c], "products": p.tolist(), "sum": s}
                         for r, c, p, s in steps],
               "feature_map": result.tolist(),
               "keras_ops_conv": keras_convolution(EXAMPLE_INPUT, EXAMPLE_KERNEL).tolist()}
    return steps_figure, digit_figure, numbers


# --- 3. classic kernels -----------------------------------------------------------------------

def kernels_figure(digit):
    figure, axes = plt.subplots(2, len(CLASSIC_KERNELS), figsize=(2.6 * len(CLASSIC_KERNELS), 4.4),
                                gridspec_kw={"height_ratios": [1, 2.2]})
    for column, (name, kernel) in enumerate(CLASSIC_KERNELS.items()):
        text = "\n".join(" ".join(f"{value:>5.2g}" for value in row) for row in kernel)
        axes[0, column].text(0.5, 0.5, text, ha="center", va="center", family="monospace",
                             fontsize=10)
        axes[0, column].set_title(name, fontsize=10)
        axes[0, column].axis("off")
        axes[1, column].imshow(keras_convolution(digit, kernel, padding="same"), cmap="gray")
        axes[1, column].axis("off")
    figure.suptitle("Table 5.3: classic 3x3 kernels applied to an MNIST digit (keras.ops.conv)")
    return figure


# --- 4. feature maps of the trained CNN ---------------------------------------------------------

def feature_maps_figure(x_train, y_train, x_test, epochs, dry_run, seed):
    keras.utils.set_random_seed(seed)
    listing = cnn_mnist.build_parser().parse_args([])  # the listing's values, from its flags
    model = cnn_mnist.build_model((28, 28, 1), 10, listing.filters, listing.kernel_size,
                                  listing.pool_size, listing.dropout)
    model.compile(loss="categorical_crossentropy", optimizer=listing.optimizer,
                  metrics=["accuracy"])
    history = model.fit(cnn_mnist.preprocess(x_train), keras.utils.to_categorical(y_train, 10),
                        epochs=1 if dry_run else epochs, batch_size=listing.batch_size, verbose=0,
                        callbacks=[callbacks.ProgressBar()])
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    probe = keras.Model(model.inputs[0], [layer.output for layer in convs])
    digit = cnn_mnist.preprocess(x_test[:1])
    maps = [keras.ops.convert_to_numpy(output)[0] for output in probe(digit)]
    channels = 8
    figure, axes = plt.subplots(len(maps), channels + 1, figsize=(1.6 * (channels + 1), 5.4))
    names = ["first (shallow)", "middle", "last (deep)"]
    for row, (feature_map, name) in enumerate(zip(maps, names)):
        axes[row, 0].imshow(x_test[0], cmap="gray")
        axes[row, 0].set_title(name, fontsize=8)
        for channel in range(channels):
            axes[row, channel + 1].imshow(feature_map[:, :, channel], cmap="viridis")
            axes[row, channel + 1].set_title(f"{feature_map.shape[0]}x{feature_map.shape[1]} "
                                             f"#{channel}", fontsize=7)
        for axis in axes[row]:
            axis.axis("off")
    figure.suptitle("Table 5.2: what the trained CNN listing's conv layers see (8 of 64 maps "
                    "each): edges, then local, then global features")
    return figure, {"train_accuracy": history.history["accuracy"][-1],
                    "map_shapes": [list(m.shape) for m in maps]}


# --- 5. vanishing gradients ---------------------------------------------------------------------

def input_gradient_norms(model, x, y):
    """|d loss / d input| per timestep (axis 1), averaged over the batch. TensorFlow backend."""
    import tensorflow as tf

    @tf.function  # one graph: the recurrent layer's 784-step loop runs far faster than eagerly
    def input_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = keras.losses.categorical_crossentropy(y, model(x, training=False))
        return tape.gradient(loss, x)

    gradient = input_gradient(tf.convert_to_tensor(x)).numpy()
    return np.linalg.norm(gradient, axis=2).mean(axis=0)


def kernel_gradient_norms(model, x, y):
    """|d loss / d kernel| for each Dense layer, first to last. TensorFlow backend."""
    import tensorflow as tf

    kernels = [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.categorical_crossentropy(y, model(x, training=False)))
    return [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]


def gradients_figure(x_train, y_train, seed):
    if keras.backend.backend() != "tensorflow":
        raise errors.UserError("the gradient figure uses TensorFlow's GradientTape; run it with "
                            "KERAS_BACKEND=tensorflow (the default)")
    keras.utils.set_random_seed(seed)
    y = keras.utils.to_categorical(y_train[:128], 10)
    rows = rnn_mnist.preprocess(x_train[:128])  # 28 timesteps of 28 pixels
    pixels = rows.reshape(-1, 784, 1)  # 784 timesteps of 1 pixel: a long sequence
    sequences = {}
    for name, x in [("rows", rows), ("pixels", pixels)]:
        sequences[name] = {}
        for cell in ["simple", "lstm", "gru"]:
            model = rnn_mnist.build_model(x.shape[1:], 10, 128, 0.0, cell)
            sequences[name][cell] = input_gradient_norms(model, x, y).tolist()
    by_activation = {}
    for activation in ["sigmoid", "relu"]:
        model = keras.Sequential([keras.Input(shape=(784,))] + [
            layer for _ in range(10)
            for layer in (keras.layers.Dense(256), keras.layers.Activation(activation))
        ] + [keras.layers.Dense(10), keras.layers.Activation("softmax")])
        by_activation[activation] = kernel_gradient_norms(model, mlp_mnist.preprocess(
            x_train[:128]), y)

    figure, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    labels = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
    for axis, (name, length) in zip(axes, [("rows", 28), ("pixels", 784)]):
        for cell, norms in sequences[name].items():
            axis.semilogy(range(1, length + 1), norms, label=labels[cell],
                          marker="o" if length < 100 else None, markersize=3)
        axis.set(xlabel="timestep t", ylabel="mean |d loss / d x_t|",
                 title=f"{length} timesteps ({'image rows' if length == 28 else 'pixels'})")
    for activation, norms in by_activation.items():
        axes[2].semilogy(range(1, len(norms) + 1), norms, marker="o", label=activation)
    axes[2].set(xlabel="Dense layer (1 = nearest the input)", ylabel="|d loss / d kernel|",
                title="11-layer MLP, 256 units")
    for axis in axes:
        axis.grid(alpha=0.3, which="both")
        axis.legend()
    figure.suptitle("Gradient reaching each timestep and layer, at initialization, on 128 "
                    "MNIST digits (recurrent layers: 128 units)")
    figure.tight_layout()
    return figure, {"rnn_input_gradient_per_timestep": sequences,
                    "mlp_kernel_gradient_per_layer": by_activation}


# --- 6. MLP vs CNN vs RNN -----------------------------------------------------------------------

def comparison_markdown(results_dir):
    qualities = {
        "mlp_mnist": ("MLP", "tabular, flattened images", "no", "no", "none"),
        "cnn_mnist": ("CNN", "images, spatial data", "no", "yes (kernels)", "spatial"),
        "rnn_mnist": ("RNN", "sequences (rows as timesteps)", "yes", "yes (across time)",
                      "sequential"),
    }
    lines = ["| model | suited to | recurrence | parameter sharing | structure it uses | "
             "parameters | test accuracy | s/epoch | epochs | record |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    numbers = {}
    for stem, (name, data, recurrence, sharing, structure) in qualities.items():
        found = []
        for path in glob.glob(os.path.join(glob.escape(results_dir), stem, "*", "record.json")):
            record = results_index.read_record(path)
            if record and results_index.run_with_defaults(record) and "started" in record:
                found.append((record["started"], path, record))
        if not found:
            lines.append(f"| {name} | {data} | {recurrence} | {sharing} | {structure} | "
                         f"- | - | - | - | no run of the listing's defaults under "
                         f"{results_dir}/{stem}/ |")
            continue
        _, path, record = max(found)  # the latest run of the listing as printed
        numbers[stem] = {key: record[key] for key in
                         ("parameters", "test_accuracy", "seconds_per_epoch")}
        lines.append(
            f"| {name} | {data} | {recurrence} | {sharing} | {structure} | "
            f"{record['parameters']:,} | {100 * record['test_accuracy']:.2f}% | "
            f"{record['seconds_per_epoch']:.2f} | {len(record['epochs'])} | "
            f"`{os.path.relpath(path, results_dir)}` |")
    header = ["# MLP vs CNN vs RNN on MNIST", "",
              "The chapter's comparison, with measured columns from the latest run of each "
              "listing with its own defaults (only --seed and --results-dir may differ; the "
              "record column names it, with its machine and command).", ""]
    return "\n".join(header + lines) + "\n", numbers


def main(argv=None):
    args = cli.parse(build_parser(), argv, results_folder="figures")
    run = records.Run(__file__, args, folder="figures")
    only = set(args.only)
    figures, numbers, texts = {}, {}, {}
    needs_data = only & {"convolution", "kernels", "feature_maps", "gradients"}
    if needs_data:
        (x_train, y_train), (x_test, y_test), _ = mnist.load_data(dry_run=args.dry_run)
        digit = x_test[0].astype(np.float32) / 255  # a 7
    if "activations" in only:
        figures["activations.png"], numbers["activations"] = activations_figure()
    if "convolution" in only:
        (figures["convolution_steps.png"], figures["convolution_digit.png"],
         numbers["convolution"]) = convolution_figures(digit)
    if "kernels" in only:
        figures["classic_kernels.png"] = kernels_figure(digit)
    if "feature_maps" in only:
        figures["feature_maps.png"], numbers["feature_maps"] = feature_maps_figure(
            x_train, y_train, x_test, args.cnn_epochs, args.dry_run, args.seed)
    if "gradients" in only:
        figures["vanishing_gradients.png"], numbers["gradients"] = gradients_figure(
            x_train, y_train, args.seed)
    if "comparison" in only:
        texts["comparison.md"], numbers["comparison"] = comparison_markdown(args.results_dir)
    return run.write(figures, texts=texts, numbers=numbers)


if __name__ == "__main__":
    lifecycle.run_main(main)
