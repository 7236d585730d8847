"""Results are never overwritten and never half-written; Graphviz is optional."""
import argparse
import os
import shutil
import signal
import sys

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

import mnist_samples
from companion import callbacks, errors, lifecycle, records
from conftest import read_record


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    args = argparse.Namespace(results_dir=str(tmp_path), seed=1, dry_run=True)
    first_run = records.Run("mnist_samples.py", args)
    second_run = records.Run("mnist_samples.py", argparse.Namespace(**{**vars(args), "seed": 2}))
    second_run.started = first_run.started  # the same second: the same folder name
    first = first_run.write({"a.png": plt.figure()}, note="first")
    second = second_run.write({"a.png": plt.figure()}, note="second")
    assert second == first + "-2"
    assert read_record(first)["note"] == "first" and read_record(first)["seed"] == 1
    assert read_record(second)["note"] == "second" and read_record(second)["seed"] == 2


def test_script_runs_never_overwrite(results_dir):
    first = mnist_samples.main(["--results-dir", results_dir, "--dry-run", "--seed", "1"])
    second = mnist_samples.main(["--results-dir", results_dir, "--dry-run", "--seed", "2"])
    assert first != second
    assert read_record(first)["sample_indexes"] != read_record(second)["sample_indexes"]


class InterruptingFigure:
    """Stands in for a figure whose saving is cut off by Ctrl-C."""

    def savefig(self, path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half a PNG")
        raise KeyboardInterrupt


def test_interrupted_write_leaves_nothing_behind(tmp_path):
    # as a script started from a terminal has it, whatever launched this suite (nohup, &, CI)
    launched_with = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        args = argparse.Namespace(results_dir=str(tmp_path), seed=1, dry_run=True)
        run = records.Run("mlp_mnist.py", args)
        good = plt.figure()
        with pytest.raises(KeyboardInterrupt):
            run.write({"curves.png": good, "confusion.png": InterruptingFigure()},
                      test_accuracy=0.5)
        assert os.listdir(tmp_path / "mlp_mnist") == []
        # Ctrl-C works again afterwards (a process started now would otherwise inherit "ignore")
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, launched_with)


def test_staging_of_a_killed_run_is_cleared_by_the_next(tmp_path):
    import subprocess

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    parent = tmp_path / "mnist_samples"
    (parent / f".20260101-000000.partial-{dead_pid}").mkdir(parents=True)
    (parent / f".20260101-000000.partial-{dead_pid}" / "curves.png").write_bytes(b"half")
    (parent / f".20260101-000001.partial-{os.getppid()}").mkdir()  # a live run's: kept
    args = argparse.Namespace(results_dir=str(tmp_path), seed=1, dry_run=True)
    final = records.Run("mnist_samples.py", args).write({"a.png": plt.figure()})
    assert sorted(os.listdir(parent)) == sorted(
        [f".20260101-000001.partial-{os.getppid()}", os.path.basename(final)])


def test_ctrl_c_ends_with_one_line_and_status_130(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])

    def main(argv):
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_info:
        lifecycle.run_main(main)
    assert exit_info.value.code == 130
    assert capsys.readouterr().err == "\nmlp_mnist.py: interrupted; this run wrote no results\n"


class KillDuringStep(keras.callbacks.Callback):
    """Sends this process a `kill` as the given step begins, as if it came while the backend ran."""

    def __init__(self, step):
        super().__init__()
        self.step, self.steps_begun = step, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.steps_begun += 1
        if batch == self.step:
            os.kill(os.getpid(), signal.SIGTERM)


def test_kill_during_training_stops_at_the_end_of_that_step(capsys, monkeypatch):
    """Raised at once, the kill's exception would meet the backend's own code (CI saw SIGABRT and
    a TypeError from tf.convert_to_tensor): it waits for the step to end, then stops the run."""
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    kill = KillDuringStep(step=2)

    def main(argv):
        model.fit(np.zeros((64, 4)), np.zeros((64, 2)), batch_size=8, epochs=1, verbose=0,
                  callbacks=[kill, callbacks.ProgressBar()])

    launched_with = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exit_info:
        lifecycle.run_main(main)
    assert exit_info.value.code == 143
    assert int(model.optimizer.iterations) == 3 and kill.steps_begun == 3
    assert capsys.readouterr().err == ("\nmlp_mnist.py: stopped by kill (SIGTERM); this run "
                                       "wrote no results\n")
    assert signal.getsignal(signal.SIGTERM) is launched_with


def test_kill_during_a_watched_backend_call_stops_when_it_returns(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])
    reached = []

    def main(argv):
        with lifecycle.backend_call():  # as model.predict(verbose=0) is called
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append("the rest of the call")
        reached.append("the line after the call")

    with pytest.raises(SystemExit) as exit_info:
        lifecycle.run_main(main)
    assert exit_info.value.code == 143 and reached == ["the rest of the call"]


def test_kill_outside_training_stops_at_once(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])
    reached = []

    def main(argv):
        os.kill(os.getpid(), signal.SIGTERM)
        reached.append("the line after the kill")

    with pytest.raises(SystemExit) as exit_info:
        lifecycle.run_main(main)
    assert exit_info.value.code == 143 and reached == []


def test_user_error_ends_with_one_line_and_status_2(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["cnn_mnist.py"])

    def main(argv):
        raise errors.UserError("MNIST file x is corrupt; delete it")

    with pytest.raises(SystemExit) as exit_info:
        lifecycle.run_main(main)
    assert exit_info.value.code == 2  # bad input, as a bad flag
    assert capsys.readouterr().err == "cnn_mnist.py: error: MNIST file x is corrupt; delete it\n"


@pytest.fixture
def small_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    return model


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_model_diagram_with_graphviz(tmp_path, small_model):
    path = tmp_path / "model.png"
    assert records.save_model_diagram(small_model, str(path)) is True
    with open(path, "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_model_diagram_without_graphviz_is_a_warning(tmp_path, small_model, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere on it
    monkeypatch.setattr(records, "DIAGRAM_PROBLEMS_TOLD", set())  # as in a new process
    path = tmp_path / "model.png"
    assert records.save_model_diagram(small_model, str(path)) is False
    assert not path.exists()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"warning: no model diagram (Graphviz's dot program is not on PATH; "
                     f"{records.GRAPHVIZ_HINT})"]
    assert records.save_model_diagram(small_model, str(path)) is False  # a second model
    assert capsys.readouterr().out == ""  # the warning is said once a process


@pytest.mark.parametrize("signum, status, name", [(signal.SIGHUP, 129, "SIGHUP"),
                                                  (signal.SIGQUIT, 131, "SIGQUIT")])
def test_a_closed_terminal_or_ctrl_backslash_stops_as_kill_does(capsys, monkeypatch, signum,
                                                                status, name):
    """SIGHUP (the terminal or ssh session closed) and SIGQUIT leave no half run: the run stops
    at the step's end, removes what it began, and says so in one line (issue 43)."""
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])
    monkeypatch.setattr(lifecycle, "SIGNALS_AT_LAUNCH", {})
    launched_with = signal.signal(signum, signal.SIG_DFL)  # as a terminal starts it
    reached = []

    def main(argv):
        with lifecycle.backend_call():
            os.kill(os.getpid(), signum)
            reached.append("the rest of the call")
        reached.append("the line after the call")

    try:
        with pytest.raises(SystemExit) as exit_info:
            lifecycle.run_main(main)
        assert signal.getsignal(signum) is signal.SIG_DFL  # given back as it was
    finally:
        signal.signal(signum, launched_with)
    assert exit_info.value.code == status and reached == ["the rest of the call"]
    assert capsys.readouterr().err == f"\nmlp_mnist.py: stopped by {name}; this run wrote no " \
                                      f"results\n"


def test_a_run_started_with_nohup_goes_on_when_the_terminal_closes(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])
    monkeypatch.setattr(lifecycle, "SIGNALS_AT_LAUNCH", {})
    launched_with = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does
    reached = []

    def main(argv):
        os.kill(os.getpid(), signal.SIGHUP)
        reached.append("the rest of the run")

    try:
        lifecycle.run_main(main)
    finally:
        signal.signal(signal.SIGHUP, launched_with)
    assert reached == ["the rest of the run"]
