"""Every script answers --help and a wrong flag before Keras, TensorFlow or JAX is imported."""
import importlib.util
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, run_script, start_script

SCRIPTS = ["mlp_mnist.py", "cnn_mnist.py", "rnn_mnist.py", "mnist_samples.py", "redraw_figures.py",
           "lstm_gru_text.py", "predict_digit.py", "concept_figures.py", "reproduce.py"]
# run the script as `python SCRIPT ARGS` would, then list the heavy modules it had imported
PROBE = """
import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
    status = 0
except SystemExit as stop:
    status = stop.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"keras", "tensorflow", "jax"})
print(status, ",".join(heavy) or "-", file=sys.__stdout__)
"""


def probe(script, *args, backend="tensorflow"):
    completed = subprocess.run([sys.executable, "-c", PROBE, script, *args], cwd=ROOT,
                               capture_output=True, text=True, timeout=120,
                               env={"KERAS_BACKEND": backend, "PATH": "/usr/bin:/bin"})
    status, heavy = completed.stdout.split()[-2:]
    return int(status), heavy, completed.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_imports_no_framework(script):
    status, heavy, _ = probe(script, "--help")
    assert (status, heavy) == (0, "-")


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_a_wrong_flag_is_one_line_before_any_framework(script, backend):
    bad = ["/no/such/run"] if script == "redraw_figures.py" else ["--seed", "-1"]
    status, heavy, stderr = probe(script, *bad, backend=backend)
    assert (status, heavy) == (2, "-")
    [line] = stderr.splitlines()  # reproduce.py's --seeds takes --seed as its prefix
    assert line.startswith(f"{script}: error: argument ")
    assert "4294967295" in line or "/no/such/run" in line


def test_other_bad_values_are_refused_before_any_framework():
    for script, *args in [("mnist_samples.py", "--results-dir", "README.md"),
                          ("cnn_mnist.py", "--kernel-size", "9"),
                          ("predict_digit.py",)]:
        status, heavy, stderr = probe(script, *args)
        assert (status, heavy) == (2, "-") and len(stderr.splitlines()) == 1, stderr


@pytest.mark.parametrize("backend", ["numpy", "openvino", "bogus"])
def test_a_backend_the_scripts_cannot_train_with_is_one_line(backend):
    status, heavy, stderr = probe("mlp_mnist.py", "--dry-run", backend=backend)
    assert (status, heavy) == (2, "-")
    assert stderr.splitlines() == [
        f"mlp_mnist.py: error: KERAS_BACKEND='{backend}': these scripts train with tensorflow, "
        f"jax, torch; set KERAS_BACKEND to one of them"]


def test_a_backend_named_in_keras_json_is_blamed_there(tmp_path):
    (tmp_path / "keras.json").write_text('{"backend": "numpy"}')
    completed = subprocess.run([sys.executable, "-c", PROBE, "mlp_mnist.py", "--dry-run"],
                               cwd=ROOT, capture_output=True, text=True, timeout=120,
                               env={"KERAS_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert completed.stdout.split()[-2:] == ["2", "-"]
    assert completed.stderr.splitlines() == [
        "mlp_mnist.py: error: keras.json's backend='numpy': these scripts train with tensorflow, "
        "jax, torch; set KERAS_BACKEND to one of them"]


def test_reproduce_refuses_a_seed_named_twice():
    status, heavy, stderr = probe("reproduce.py", "--seeds", "1,2,1")
    assert (status, heavy) == (2, "-")
    assert stderr.splitlines() == ["reproduce.py: error: argument --seeds: each seed once, got "
                                   "'1,2,1'"]


@pytest.mark.parametrize("point", ["parse", "import:keras"])
def test_ctrl_c_while_the_script_starts_is_one_line(tmp_path, point):
    # reading its flags, or importing Keras: the script says when it is there
    process = start_script("mlp_mnist.py", "--dry-run", "--results-dir", str(tmp_path),
                           ready_at=point)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.strip().splitlines() == ["mlp_mnist.py: interrupted; this run wrote no results"]
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_a_backend_whose_package_is_missing_is_one_line_exit_2():
    completed = subprocess.run([sys.executable, "mlp_mnist.py", "--dry-run"], cwd=ROOT,
                               capture_output=True, text=True, timeout=300,
                               env={**os.environ, "KERAS_BACKEND": "torch"})
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "mlp_mnist.py: error: the Keras backend 'torch' needs the package 'torch'; install it "
        "(pip install torch) or unset KERAS_BACKEND"]


@pytest.mark.parametrize("script, flag", [("mlp_mnist.py", "--hidden-units"),
                                          ("mlp_mnist.py", "--l2"),
                                          ("cnn_mnist.py", "--filters"),
                                          ("lstm_gru_text.py", "--embeddings"),
                                          ("predict_digit.py", "--model")])
def test_a_flag_given_a_lone_double_dash_is_one_line(script, flag):
    """argparse drops a lone '--' value and hands the flag [] unchecked: --l2=-- trained a model
    without L2 (issue 43). Refused before anything loads."""
    completed = run_script(script, f"{flag}=--")
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"{script}: error: argument {flag}: expected a value, got '--'"]


def test_help_works_under_python_oo():
    """python -OO drops docstrings, which the parsers' descriptions are read from."""
    completed = subprocess.run([sys.executable, "-OO", "mlp_mnist.py", "--help"], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: mlp_mnist.py")
