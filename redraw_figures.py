"""Draw a run's figures again from its record (and its model, where the folder has one).

The committed table and investigation runs keep their record.json and not their figures, to
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

from companion import lifecycle, mnist, plots, records  # isort: skip
import numpy as np


def redraw(folder):
    """Write the figures the record (and model) allow; return their file names."""
    with open(os.path.join(folder, "record.json")) as f:
        record = json.load(f)
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
        figure.savefig(os.path.join(folder, name), dpi=100, bbox_inches="tight")
        plots.plt.close(figure)
    return sorted(figures)


def main(argv=None):
    args = cli.parse(build_parser(), argv)
    for folder in args.folders:
        print(f"{folder}: {', '.join(redraw(folder))}")


if __name__ == "__main__":
    lifecycle.run_main(main)
