"""The figures a classifier's run leaves: learning curves, the test confusion matrix and the
misclassified digits."""
import warnings

import matplotlib

matplotlib.use("Agg")  # files, not windows: the scripts also run on headless machines
# a character the font lacks (an emoji in a picture's file name) is drawn as a box, unsaid
warnings.filterwarnings("ignore", "Glyph .* missing from font")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def confusion_matrix(actual, predicted, num_labels):
    """Rows: true digit; columns: predicted digit."""
    matrix = np.zeros((num_labels, num_labels), dtype=np.int64)
    np.add.at(matrix, (actual, predicted), 1)
    return matrix


def plot_curves(epochs, test_accuracy):
    """Loss and accuracy per epoch: training, validation when there is one, and the test score."""
    numbers = [entry["epoch"] for entry in epochs]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for prefix, label in [("", "train"), ("val_", "validation")]:
        if prefix + "loss" not in epochs[0]:
            continue
        loss_axes.plot(numbers, [_nan_for_none(entry[prefix + "loss"]) for entry in epochs],
                       marker="o", label=label)
        accuracy_axes.plot(numbers, [100 * _nan_for_none(entry[prefix + "accuracy"])
                                     for entry in epochs], marker="o", label=label)
    if test_accuracy is not None:
        accuracy_axes.axhline(100 * test_accuracy, color="tab:red", linestyle="--",
                              label=f"test {100 * test_accuracy:.1f}%")
    loss_axes.set(xlabel="epoch", ylabel="loss", title="Loss")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy, % (train with dropout active)",
                      title="Accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    return figure


def _nan_for_none(value):
    return np.nan if value is None else value


def plot_confusion(matrix):
    figure, axes = plt.subplots(figsize=(6.5, 5.5))
    image = axes.imshow(np.log1p(matrix), cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center", fontsize=7,
                  color="white" if image.norm(np.log1p(count)) > 0.6 else "black")
    labels = range(matrix.shape[0])
    axes.set(xticks=labels, yticks=labels, xlabel="predicted digit", ylabel="true digit",
             title=f"Test set: {np.trace(matrix)} of {matrix.sum()} correct")
    return figure


def plot_misclassified(images, actual, predicted, count=25):
    """The first `count` misclassified test digits, titled 'true -> predicted'."""
    wrong = np.flatnonzero(actual != predicted)[:count]
    figure = plt.figure(figsize=(6, 6.6))
    for position, index in enumerate(wrong):
        axes = figure.add_subplot(5, 5, position + 1)
        axes.imshow(images[index], cmap="gray")
        axes.set_title(f"{actual[index]} -> {predicted[index]}", fontsize=9)
        axes.axis("off")
    figure.suptitle(f"{len(np.flatnonzero(actual != predicted))} misclassified test digits "
                    f"(first {len(wrong)}: true -> predicted)", fontsize=10)
    return figure
