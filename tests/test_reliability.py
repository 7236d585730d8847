"""The runner and the scripts under a hostile environment: another working directory, a second
runner, kill -9, closed pipes, full or odd result folders."""
import argparse
import errno
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import cnn_mnist
import concept_figures
from companion import files, lifecycle, records
from conftest import ROOT, run_script, start_script
from tables import results_index


def row_records(runs_dir, row_id):
    return glob.glob(os.path.join(runs_dir, f"{row_id}-seed1", "*", "*", "record.json"))


@pytest.mark.slow
def test_relative_results_dir_from_another_directory(tmp_path):
    """The rows' scripts write where the runner looks, whatever the caller's directory."""
    completed = subprocess.run(
        [sys.executable, os.path.join(ROOT, "reproduce.py"), "--quick", "--table", "rnn",
         "--rows", "1", "--results-dir", "relative"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    assert "FAILED" not in completed.stdout
    assert len(row_records(tmp_path / "relative" / "tables-quick", "rnn-01")) == 1
    assert not os.path.exists(os.path.join(ROOT, "relative"))


@pytest.mark.slow
def test_one_runner_per_results_dir_and_no_orphan_after_kill_9(tmp_path):
    results_dir = str(tmp_path / "results")
    runs_dir = os.path.join(results_dir, "tables-quick")
    flags = ["--quick", "--table", "mlp", "--rows", "1,2", "--results-dir", results_dir]
    first = start_script("reproduce.py", *flags)
    try:
        deadline = time.monotonic() + 300
        while not row_records(runs_dir, "mlp-01") and time.monotonic() < deadline:
            time.sleep(0.1)
        # row 2 is running now: a second runner on the same folder is refused in one line
        second = run_script("reproduce.py", *flags)
        assert second.returncode == 2
        [line] = second.stderr.splitlines()
        assert line.startswith("reproduce.py: error: another reproduce.py (process ")
        first.send_signal(signal.SIGKILL)  # no cleanup of its own: its row must still stop
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    deadline = time.monotonic() + 120
    while True:  # the killed runner's row stops on its own, and frees the folder
        rerun = run_script("reproduce.py", *flags)
        if rerun.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert rerun.returncode == 0, rerun.stderr
    assert len(row_records(runs_dir, "mlp-01")) == 1
    assert len(row_records(runs_dir, "mlp-02")) == 1  # run once, after the kill: not twice
    assert not os.path.exists(os.path.join(runs_dir, "mlp-02-seed1", "failed.json"))


@pytest.mark.parametrize("flags, message", [
    (["--seed", "4294967296"], "argument --seed: expected a seed from 0 to 4294967295, "
                               "got '4294967296'"),
    (["--results-dir", ""], "argument --results-dir: expected a folder, got ''"),
    (["--kernel-size", "29"], "argument --kernel-size: expected an integer from 1 to 28, got "
                              "'29'"),
    (["--kernel-size", "14"], "argument --kernel-size/--pool-size: 14x14 kernels and 2x2 "
                              "pooling leave no feature map after the second Conv2D of a 28x28 "
                              "digit"),
    (["--kernel-size", "3", "--pool-size", "7"], "argument --kernel-size/--pool-size: 3x3 "
     "kernels and 7x7 pooling leave no feature map after the second MaxPooling2D of a 28x28 "
     "digit"),
])
def test_flags_that_could_only_fail_later_are_refused_at_once(flags, message, capsys,
                                                              monkeypatch):
    monkeypatch.setattr(sys, "argv", ["cnn_mnist.py"])
    monkeypatch.setattr(cnn_mnist.mnist, "load_data", lambda **_: pytest.fail("data loaded"))
    with pytest.raises(SystemExit) as stop:
        cnn_mnist.main(flags)
    assert stop.value.code == 2
    assert capsys.readouterr().err == f"cnn_mnist.py: error: {message}\n"


def test_results_dir_problems_are_found_before_training(tmp_path):
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    assert files.results_dir_problem(str(dangling)) == (
        f"{str(dangling)!r} is a broken symbolic link (to {str(tmp_path / 'nowhere')!r}); "
        "remove it or make its target")
    (tmp_path / "mlp_mnist").write_text("a file in the way")
    assert files.results_dir_problem(str(tmp_path), "mlp_mnist") == (
        f"{str(tmp_path / 'mlp_mnist')!r} is a file, where this script's runs go in a folder "
        "of that name")
    assert files.results_dir_problem("/proc/x").startswith(
        "cannot write to '/proc', where '/proc/x' would be made (")


def test_a_scripts_folder_that_takes_no_files_is_found_before_training(tmp_path, monkeypatch):
    """A read-only results/mlp_mnist/ in a writable results/ (chmod cannot show it to root,
    who writes anyway: the probe's refusal stands in for the file system's)."""
    (tmp_path / "mlp_mnist").mkdir()
    probe = files.tempfile.TemporaryFile

    def read_only_inside(dir=None, **kwargs):
        if dir == str(tmp_path / "mlp_mnist"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return probe(dir=dir, **kwargs)

    monkeypatch.setattr(files.tempfile, "TemporaryFile", read_only_inside)
    assert files.results_dir_problem(str(tmp_path), "mlp_mnist") == (
        f"cannot write to {str(tmp_path / 'mlp_mnist')!r} (Permission denied)")
    assert files.results_dir_problem(str(tmp_path), "cnn_mnist") is None


class FullDisk:
    def savefig(self, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", path)


def test_full_disk_is_one_line_and_keeps_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])
    args = argparse.Namespace(results_dir=str(tmp_path), seed=1, dry_run=True)

    def main(argv):
        records.Run("mlp_mnist.py", args).write({"curves.png": FullDisk()})

    with pytest.raises(SystemExit) as stop:
        lifecycle.run_main(main)
    assert stop.value.code == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("mlp_mnist.py: error: cannot write ")
    assert line.endswith("(No space left on device); nothing of this run was kept")
    assert os.listdir(tmp_path / "mlp_mnist") == []


def test_out_of_memory_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])

    class ResourceExhaustedError(Exception):  # the name TensorFlow's error has
        pass

    def main(argv):
        raise ResourceExhaustedError("OOM when allocating tensor with shape[784,99999999]")

    with pytest.raises(SystemExit) as stop:
        lifecycle.run_main(main)
    assert stop.value.code == 1
    assert capsys.readouterr().err == (
        "mlp_mnist.py: error: out of memory (ResourceExhaustedError); try a smaller model "
        "(--hidden-units, --filters, --units) or --batch-size\n")


@pytest.mark.slow
def test_output_piped_to_head_still_finishes_the_run(tmp_path):
    results_dir = tmp_path / "results"
    shell = (f"{sys.executable} {os.path.join(ROOT, 'mlp_mnist.py')} --dry-run "
             f"--results-dir {results_dir} | head -1")
    completed = subprocess.run(["bash", "-c", f"set -o pipefail; {shell}"], capture_output=True,
                               text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout.startswith("MNIST: ")  # the first line; the banner follows it
    [run] = os.listdir(results_dir / "mlp_mnist")
    assert os.path.exists(results_dir / "mlp_mnist" / run / "model.keras")


@pytest.mark.slow
def test_kill_of_a_script_says_so_and_keeps_nothing(tmp_path):
    results_dir = tmp_path / "results"
    script = start_script("mlp_mnist.py", "--epochs", "50", "--results-dir", str(results_dir))
    try:
        for line in script.stdout:  # training has started once the first epoch begins
            if line.startswith("Epoch 1/50"):
                break
        script.send_signal(signal.SIGTERM)
        _, stderr = script.communicate(timeout=120)
    finally:
        if script.poll() is None:
            script.kill()
    assert script.returncode == 143, stderr[-3000:]  # what the script said, if it died otherwise
    assert stderr.splitlines()[-1] == ("mlp_mnist.py: stopped by kill (SIGTERM); this run wrote "
                                       "no results")
    assert not results_dir.exists() or not any(results_dir.rglob("record.json"))


@pytest.mark.slow
def test_figures_follow_the_seed(monkeypatch):
    """concept_figures.py --seed reaches the gradient measurements (the recurrent cells' input
    gradients, the slow part, stood in for: the seed is set once before all of them)."""
    (x_train, y_train), (x_test, _), _ = concept_figures.mnist.load_data(dry_run=True)
    monkeypatch.setattr(concept_figures, "input_gradient_norms",
                        lambda model, x, y: np.zeros(x.shape[1]))
    _, one = concept_figures.gradients_figure(x_train, y_train, seed=1)
    _, seven = concept_figures.gradients_figure(x_train, y_train, seed=7)
    assert one["mlp_kernel_gradient_per_layer"] != seven["mlp_kernel_gradient_per_layer"]


def test_comparison_uses_only_runs_of_the_listings_defaults(tmp_path):
    folder = tmp_path / "mlp_mnist"
    for name, command, accuracy in [("20260101-000000", "python mlp_mnist.py --seed 2", 0.98),
                                    ("20260102-000000", "python mlp_mnist.py --epochs 1 "
                                                        "--batch-size 60001", 0.3453)]:
        (folder / name).mkdir(parents=True)
        (folder / name / "record.json").write_text(json.dumps({
            "command": command, "started": name, "status": "finished", "parameters": 269322,
            "test_accuracy": accuracy, "seconds_per_epoch": 1.0, "epochs": [{}]}))
    text, numbers = concept_figures.comparison_markdown(str(tmp_path))
    assert numbers["mlp_mnist"]["test_accuracy"] == 0.98
    assert "mlp_mnist/20260101-000000/record.json" in text and "34.53" not in text
    assert results_index.run_with_defaults({"command": "python mlp_mnist.py --dry-run"}) is False


def test_a_results_folder_name_the_file_system_refuses_is_one_line_before_training(tmp_path):
    completed = run_script("mlp_mnist.py", "--dry-run", "--results-dir",
                           str(tmp_path / ("r" * 300)))
    assert completed.returncode == 2
    [line] = completed.stderr.splitlines()
    assert line.startswith("mlp_mnist.py: error: argument --results-dir: ")
    assert line.endswith(f"...' ({len(repr(str(tmp_path / ('r' * 300))))} chars) is longer "
                         f"than the file system allows (255 bytes a name)")
    assert completed.stdout == ""  # nothing trained


def test_a_disk_that_fills_while_the_model_is_saved_leaves_no_temporary_folder(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])
    args = argparse.Namespace(results_dir=str(tmp_path / "results"), seed=1, dry_run=True)
    left = []

    class FillsTheDisk:
        def save(self, path):  # as Keras' save: a scratch folder first, then the disk is full
            left.append(tempfile.mkdtemp())
            raise OSError(errno.ENOSPC, "No space left on device", path)

    def main(argv):
        records.Run("mlp_mnist.py", args).write({}, model=FillsTheDisk())

    with pytest.raises(SystemExit) as stop:
        lifecycle.run_main(main)
    assert stop.value.code == 1
    assert "nothing of this run was kept" in capsys.readouterr().err
    assert left and not os.path.exists(left[0])  # the scratch folder went with the run's own
    assert os.listdir(tmp_path / "results" / "mlp_mnist") == []
