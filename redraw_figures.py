"""Draw a run's figures again from its record (and its model, where the folder has one).

Most committed table and investigation runs keep their record.json and not their figures, to
keep a clone light; this remakes them where a reader wants them, into the run's own folder:

    curves.png         loss and accuracy per epoch, from the record
    confusion.png      the test confusion matrix, from the record (classifiers)
    misclassified.png  25 misclassified test digits: needs the run's model.keras and MNIST
    model.png          the model diagram: needs model.keras and Graphviz

    python redraw_figures.py results/tables/mlp-01-seed1/mlp_mnist/20261126-150701
    python redraw_figures.py results/tables-epochs-x8/*/mlp_mnist/*   # many at once
"""
import argparse
import os

from companion import cli  # isort: skip


def run_folder(path):
    if not os.path.isfile(os.path.join(path, "record.json")):
        raise argparse.ArgumentTypeError(f"no record.json in {path!r}: name a run's folder")
    return path


def build_parser():
    parser = cli.new_parser(__doc__)
    parser.add_argument("folders", nargs="+", type=run_folder, metavar="RUN",
                        help="run folders, each holding a record.json")
    return parser


if __name__ == "__main__":  # the flags are checked before Keras is imported
    cli.parse(build_parser())

import json
import math

from companion import errors, files, lifecycle, mnist, plots, records  # isort: skip
import numpy as np

RECORD_BYTES = 1_000_000  # the largest committed record is about 70 kB


def read_record(folder):
    """The run's record.json, checked before any figure is drawn from it: one line naming the
    file and what is wrong, rather than a traceback or a figure of garbage."""
    path = os.path.join(folder, "record.json")
    if not os.path.isfile(path) or os.path.getsize(path) > RECORD_BYTES:
        raise errors.UserError(f"{path}: not a run's record (a plain file of at most "
                               f"{RECORD_BYTES:,} bytes); redraw only runs the scripts wrote")
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise errors.UserError(f"{path}: not JSON ({str(error)[:100]}); the record is damaged, "
                               f"so its figures cannot be redrawn") from None
    epochs = record.get("epochs") if isinstance(record, dict) else None
    numbers = (int, float)
    if not (isinstance(epochs, list) and 0 < len(epochs) <= 100_000 and all(
            isinstance(epoch, dict) and all(isinstance(epoch.get(key), numbers)
                                            and math.isfinite(epoch[key])
                                            for key in ("loss", "accuracy"))
            for epoch in epochs)):
        raise errors.UserError(f"{path}: no per-epoch loss and accuracy (\"epochs\") as the "
                               f"scripts write them; the record is damaged or not a run's")
    confusion = record.get("confusion_matrix")
    if confusion is not None and not (
            isinstance(confusion, list) and len(confusion) == 10
            and all(isinstance(line, list) and len(line) == 10 and
                    all(isinstance(n, int) and n >= 0 for n in line) for line in confusion)):
        raise errors.UserError(f"{path}: its confusion_matrix is not 10 x 10 counts; the "
                               f"record is damaged")
    if not isinstance(record.get("test_accuracy", 0.0), (*numbers, type(None))):
        raise errors.UserError(f"{path}: its test_accuracy is not a number")
    return record


def refuse_links(folder, names):
    """Figures are written only as plain files inside the run's folder: a name there that is a
    symbolic link (a copied or unpacked folder can hold one) would send the write elsewhere."""
    for name in names:
        if os.path.islink(os.path.join(folder, name)):
            raise errors.UserError(f"{os.path.join(folder, name)} is a symbolic link; "
                                   f"redraw_figures.py writes no file through one: remove it")


def redraw(folder):
    """Write the figures the record (and model) allow; return their file names."""
    record = read_record(folder)
    refuse_links(folder, ["curves.png", "confusion.png", "misclassified.png", "model.png"])
    figures = {"curves.png": plots.plot_curves(record["epochs"], record.get("test_accuracy"))}
    if "confusion_matrix" in record:
        figures["confusion.png"] = plots.plot_confusion(np.array(record["confusion_matrix"]))
    model_path = os.path.join(folder, "model.keras")
    if "confusion_matrix" in record and os.path.isfile(model_path):
        import predict_digit

        model, preprocess = predict_digit.load(model_path)
        _, (x_test, y_test), _ = mnist.load_data(dry_run=record.get("dry_run", False))
        with lifecycle.backend_call():
            predicted = np.argmax(model.predict(preprocess(x_test), verbose=0), axis=1)
        figures["misclassified.png"] = plots.plot_misclassified(x_test, y_test, predicted)
        records.save_model_diagram(model, os.path.join(folder, "model.png"))
    for name, figure in figures.items():
        lifecycle.stop_if_asked()  # not yet raised: lost in a cleanup callback
        with files.replacing(os.path.join(folder, name), "wb", ".png") as f:
            figure.savefig(f, format="png", dpi=100, bbox_inches="tight")
        plots.plt.close(figure)
    return sorted(figures)


def main(argv=None):
    args = cli.parse(build_parser(), argv)
    for folder in args.folders:
        print(f"{folder}: {', '.join(redraw(folder))}")


if __name__ == "__main__":
    lifecycle.run_main(main, kept_on_write_error="the run's figures are as they were")
