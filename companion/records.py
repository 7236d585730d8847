"""What a run leaves behind: its own new folder under results/ (results/<script>/<UTC start
time>/, its files listed in docs/results.md), written into a hidden staging folder and renamed
into place once every file is complete: a run stopped with Ctrl-C leaves nothing half-written,
and no run overwrites an earlier one."""
import contextlib
import importlib
import importlib.util
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from datetime import datetime, timezone

import numpy as np

from companion import lifecycle
from companion.backend import keras
from companion.callbacks import finite_or_none
from companion.environment import environment
from companion.errors import UserError
from companion.files import abandoned, hold
from companion.plots import confusion_matrix, plot_confusion, plot_curves, plot_misclassified, plt

GRAPHVIZ_HINT = ("install Graphviz (Debian/Ubuntu: apt-get install graphviz; "
                 "macOS: brew install graphviz)")


class Run:
    """One run: started when the script starts, written in one go by `write()` at its end."""

    def __init__(self, script, args, folder=None, distribution=None):
        """`folder`: the run's parent folder under --results-dir; the script's name by default.
        `distribution`: what distribute.use() set up; None for a run on Keras' default device."""
        self.script = os.path.basename(script)
        self.args = args
        self.started = datetime.now(timezone.utc)
        self.command = " ".join(shlex.quote(part)
                                for part in ["python", self.script, *sys.argv[1:]])
        self.parent = os.path.join(args.results_dir, folder or os.path.splitext(self.script)[0])
        self.distribution = distribution
        remove_abandoned_staging(self.parent)  # a killed run's space back before this one trains
        self.environment = environment(distribution.devices if distribution else None)
        spread = f" ({distribution.summary()})" if distribution and distribution.name != "none" \
            else ""
        print(f"Keras {keras.__version__}, {self.environment['keras_backend']} backend, "
              f"devices: {', '.join(self.environment['devices']) or 'unknown'}{spread}")

    def write(self, figures, model=None, texts=None, **fields):
        """Write the figures, the texts ({filename: str}), the model (model.keras) with its
        diagram, and record.json into a hidden staging folder, renamed into place once complete;
        return the run's folder (None on a multi-worker run's workers other than 0)."""
        if self.distribution and not self.distribution.writes_results:
            if model is not None:
                # saving reads the mirrored variables with collective ops in which every worker
                # takes part (tf.distribute's rule); only worker 0 keeps the file
                with tempfile.TemporaryDirectory() as scratch:
                    model.save(os.path.join(scratch, "model.keras"))
            print(f"Results: written by worker 0 (this is worker {self.distribution.worker_index})")
            return None
        os.makedirs(self.parent, exist_ok=True)
        remove_abandoned_staging(self.parent)
        name = self.started.strftime("%Y%m%d-%H%M%S")
        staging = os.path.join(self.parent, f".{name}.partial-{os.getpid()}")
        lock = hold(staging + ".lock")  # held until the folder is renamed or removed
        os.makedirs(staging)
        try:
            files = {}
            for filename, figure in figures.items():
                figure.savefig(os.path.join(staging, filename), dpi=100, bbox_inches="tight")
                plt.close(figure)
                files[os.path.splitext(filename)[0]] = filename
            for filename, text in (texts or {}).items():
                with open(os.path.join(staging, filename), "w", encoding="utf-8") as f:
                    f.write(text)
                files[os.path.splitext(filename)[0]] = filename
            if model is not None:
                with temporary_files_in(staging):  # Keras' own, removed with it on failure
                    model.save(os.path.join(staging, "model.keras"))
                files["saved_model"] = "model.keras"
                if save_model_diagram(model, os.path.join(staging, "model.png")):
                    files["model"] = "model.png"
            files["record"] = "record.json"
            record = self.record(fields, files)
            with open(os.path.join(staging, "record.json"), "w", encoding="utf-8") as f:
                json.dump(record, f, indent=2)
                f.write("\n")
            lifecycle.stop_if_asked()  # one a cleanup callback swallowed: nothing is kept
            final = rename_to_unused(staging, os.path.join(self.parent, name))
            lifecycle.KEPT.append(final)
        except BaseException as error:  # Ctrl-C included: leave no half-written run behind
            vanished = isinstance(error, FileNotFoundError) and not os.path.isdir(staging)
            with ctrl_c_ignored():
                shutil.rmtree(staging, ignore_errors=True)
            if vanished:
                raise UserError(f"{staging} was removed while this run was written into it; "
                                f"nothing of this run was kept") from None
            raise
        finally:
            with contextlib.suppress(OSError):
                os.remove(staging + ".lock")
            if lock is not None:
                os.close(lock)
        print(f"Results: {final}")
        return final

    def record(self, fields, files):
        """record.json: what was run, where, with what, and what came of it."""
        return {
            "script": self.script,
            "command": self.command,
            "hyperparameters": {key: value for key, value in vars(self.args).items()
                                if key != "results_dir"},
            "seed": self.args.seed,
            "dry_run": self.args.dry_run,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **self.environment,
            **({"distribution": self.distribution.record()} if self.distribution else {}),
            **fields,
            "files": files,
        }


@contextlib.contextmanager
def temporary_files_in(folder):
    """Make the tempfile module put what it creates inside `folder` during the block."""
    previous = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield
    finally:
        tempfile.tempdir = previous


@contextlib.contextmanager
def ctrl_c_ignored():
    """Ignore Ctrl-C inside the block (only the main thread can), then restore its handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def remove_abandoned_staging(parent):
    """Delete staging folders whose run was killed outright (files.abandoned)."""
    if not os.path.isdir(parent):
        return
    for path in abandoned(parent, lambda name: name.startswith(".") and
                          ".partial-" in name and name.rsplit(".partial-", 1)[1].split(".")[0],
                          lock_of=lambda path: path.removesuffix(".lock") + ".lock"):
        shutil.rmtree(path.removesuffix(".lock"), ignore_errors=True)
        with contextlib.suppress(OSError):
            os.remove(path.removesuffix(".lock") + ".lock")


DIAGRAM_PROBLEMS_TOLD = set()


def save_model_diagram(model, path):
    """keras.utils.plot_model; one warning line, and False, when pydot or Graphviz is missing."""
    if importlib.util.find_spec("pydot") is None:
        problem = "pydot is not installed; pip install pydot"
    elif shutil.which("dot") is None:
        problem = f"Graphviz's dot program is not on PATH; {GRAPHVIZ_HINT}"
    else:
        try:
            keras.utils.plot_model(model, to_file=path, show_shapes=True)
        except (ImportError, OSError) as error:
            problem = str(error).splitlines()[0]
        else:
            problem = None if os.path.exists(path) else "plot_model wrote no file"
    if problem:
        if problem not in DIAGRAM_PROBLEMS_TOLD:  # once a process: lstm_gru_text.py saves three
            print(f"warning: no model diagram ({problem})")
            DIAGRAM_PROBLEMS_TOLD.add(problem)
        return False
    return True


def rename_to_unused(source, target):
    """Rename `source` to `target`, or `target-2`, `target-3`... whichever is free."""
    candidate, number = target, 1
    while True:
        try:
            if os.path.exists(candidate):
                raise FileExistsError(candidate)
            os.rename(source, candidate)
            return candidate
        except FileExistsError:
            number += 1
            candidate = f"{target}-{number}"


def save_classifier_results(run, *, model, epoch_log, x_test, y_test, test_loss, test_accuracy,
                            data_source, train_samples):
    """An MNIST classifier's figures, diagram and record, after model.evaluate(); `x_test` in
    the model's own input shape (the figures reshape it back to square images)."""
    with lifecycle.backend_call():
        predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    actual = np.argmax(y_test, axis=1)
    side = int(round(np.sqrt(x_test[0].size)))
    images_test = np.reshape(x_test, [-1, side, side])
    confusion = confusion_matrix(actual, predicted, y_test.shape[1])
    return run.write(
        {"curves.png": plot_curves(epoch_log.epochs, test_accuracy),
         "confusion.png": plot_confusion(confusion),
         "misclassified.png": plot_misclassified(images_test, actual, predicted)},
        model=model,
        data={"source": data_source, "train_samples": int(train_samples),
              "test_samples": int(len(actual))},
        **training_fields(model, epoch_log, test_loss, test_accuracy),
        confusion_matrix=confusion.tolist(),
    )


def training_fields(model, epoch_log, test_loss, test_accuracy):
    """The record's fields that every trained model has: status, size, history, scores, time."""
    seconds = [entry["seconds"] for entry in epoch_log.epochs]
    return {
        "status": epoch_log.status,
        "parameters": int(model.count_params()),
        # how each call into the backend ran: steps per call, and, under --fast on JAX, one
        # compiled scan per call from the training set on the device (--scan, speed/scan.py)
        "execution": {"steps_per_execution": int(model.steps_per_execution),
                      "fused": bool(getattr(model, "fused_executions", False)),
                      "device_data": bool(getattr(model, "device_resident", False))},
        "epochs": epoch_log.epochs,
        "train_accuracy": epoch_log.epochs[-1]["accuracy"],
        "train_loss": epoch_log.epochs[-1]["loss"],
        "test_accuracy": finite_or_none(test_accuracy),
        "test_loss": finite_or_none(test_loss),
        "seconds_per_epoch": float(np.median(seconds)),
        "seconds_training": float(np.sum(seconds)),
    }


