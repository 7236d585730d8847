"""Each script end to end in smoke mode, as a reader runs it, on every backend installed, and
what it leaves in results/."""
import argparse
import importlib.util
import os
import re
import shutil

import keras
import numpy as np
import pytest

import speed
from companion import mnist
from conftest import only_run_folder, read_record, run_script

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

TRAINING_SCRIPTS = {
    "mlp_mnist.py": {"epochs": 1, "batch_size": 128, "optimizer": "adam", "dropout": 0.45,
                     "hidden_units": [256, 256], "l2": 0.0, "activation": "relu"},
    "cnn_mnist.py": {"epochs": 1, "batch_size": 128, "optimizer": "adam", "dropout": 0.2,
                     "filters": 64, "kernel_size": 3, "pool_size": 2},
    "rnn_mnist.py": {"epochs": 1, "batch_size": 128, "optimizer": "sgd", "dropout": 0.2,
                     "units": 256, "cell": "simple"},
}
PARAMETERS = {"mlp_mnist.py": 269_322, "cnn_mnist.py": 80_266, "rnn_mnist.py": 75_530}


def assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    assert os.path.getsize(path) > 2000


def backend_param(backend):
    """TensorFlow and JAX are installed by requirements-test.txt; PyPI's torch carries several
    GB of CUDA libraries, so its runs happen wherever torch is installed, and skip elsewhere."""
    missing = importlib.util.find_spec(backend) is None
    return pytest.param(backend, marks=pytest.mark.skipif(
        missing, reason=f"{backend} is not installed (pip install {backend})"))


BACKENDS = [backend_param(name) for name in ("tensorflow", "jax", "torch")]


def assert_log_lines_per_epoch(stdout, epochs):
    """Output to a file or pipe: no carriage-return redraws, one line per epoch, and no step
    count past the end (Keras 3.15 shows 480/469 with steps_per_execution=16)."""
    assert "\r" not in stdout and "\x08" not in stdout
    counts = re.findall(r"^(\d+)/(\d+) - ", stdout, flags=re.MULTILINE)
    assert len(counts) >= epochs
    assert all(int(done) <= int(total) for done, total in counts), counts


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("script", sorted(TRAINING_SCRIPTS))
def test_training_script_smoke_run(script, backend, results_dir):
    # warnings as errors too: a reader's PYTHONWARNINGS=error must not stop a run
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONWARNINGS": "error"}
    completed = run_script(script, "--dry-run", "--results-dir", results_dir, env=env)
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert_log_lines_per_epoch(completed.stdout, epochs=1)
    folder = only_run_folder(results_dir, script[:-3])
    record = read_record(folder)

    printed = [line for line in completed.stdout.splitlines() if line.startswith("Test accuracy: ")]
    assert printed == [f"Test accuracy: {100 * record['test_accuracy']:.1f}%"]
    assert completed.stdout.splitlines()[-1] == f"Results: {folder}"

    assert record["script"] == script
    assert record["command"] == f"python {script} --dry-run --results-dir {results_dir}"
    for name, value in TRAINING_SCRIPTS[script].items():
        assert record["hyperparameters"][name] == value, name
    assert record["seed"] == 1 and record["dry_run"] is True
    assert record["keras_backend"] == backend
    assert record["devices"] == ["cpu:0"]  # the device that trained: no GPU here
    assert record["accelerator"] is None
    assert set(record["versions"]) >= {"python", "keras", "numpy", backend}
    # Keras' own path: compile() decides jit_compile, one step per call
    assert record["hyperparameters"]["steps_per_execution"] == 1
    assert record["hyperparameters"]["jit_compile"] == "auto"
    assert record["hyperparameters"]["fast"] is False
    assert record["execution"] == {"steps_per_execution": 1, "fused": False,
                                   "device_data": False}
    assert len(record["code"]["commit"]) == 40 and isinstance(record["code"]["modified"], bool)
    machine = record["machine"]
    assert machine["processor"] and machine["cpu_count"] >= 1
    assert machine["threads_available"] >= 1 and isinstance(machine["vector_extensions"], list)
    assert record["data"]["train_samples"] == 2048 and record["data"]["test_samples"] == 512
    assert record["parameters"] == PARAMETERS[script]
    assert len(record["epochs"]) == 1
    epoch = record["epochs"][0]
    assert epoch["epoch"] == 1 and epoch["seconds"] > 0
    assert 0.0 < epoch["loss"] < 10.0
    assert record["train_accuracy"] == epoch["accuracy"]
    assert 0.0 <= record["test_accuracy"] <= 1.0
    assert record["seconds_per_epoch"] == epoch["seconds"]
    confusion = record["confusion_matrix"]
    assert len(confusion) == 10 and all(len(row) == 10 for row in confusion)
    assert sum(map(sum, confusion)) == 512
    correct = sum(confusion[i][i] for i in range(10))
    assert correct / 512 == pytest.approx(record["test_accuracy"], abs=1e-6)

    expected_files = {"saved_model": "model.keras", "curves": "curves.png",
                      "confusion": "confusion.png",
                      "misclassified": "misclassified.png", "record": "record.json"}
    if shutil.which("dot"):  # Graphviz is optional: without it there is no model.png
        expected_files["model"] = "model.png"
    assert record["files"] == expected_files
    assert sorted(os.listdir(folder)) == sorted(record["files"].values())
    for filename in record["files"].values():
        if filename.endswith(".png"):
            assert_png(os.path.join(folder, filename))
    assert_saved_model_scores_as_recorded(script, folder, record)


def assert_saved_model_scores_as_recorded(script, folder, record):
    """model.keras reloads (here on TensorFlow, whatever trained it) and scores the recorded
    test accuracy on the same 512 test digits."""
    # compile=False: a torch-trained model's optimizer would import torch beside TensorFlow
    model = keras.saving.load_model(os.path.join(folder, "model.keras"), compile=False)
    _, (x_test, y_test), _ = mnist.load_data(dry_run=True)
    preprocess = importlib.import_module(script[:-3]).preprocess
    predicted = np.argmax(model.predict(preprocess(x_test), verbose=0), axis=1)
    assert np.mean(predicted == y_test) == pytest.approx(record["test_accuracy"], abs=1e-4)


def test_fast_asks_torch_for_nothing_its_trainer_refuses():
    """Checked without torch: Keras' PyTorch trainer refuses steps_per_execution > 1."""
    for accelerator in (False, True):
        for listing in ("mlp", "cnn", "rnn", None):
            assert speed.fast_settings("torch", accelerator, listing) == {}
    args = argparse.Namespace(steps_per_execution=16, scan=False, fast=False, jit_compile=None)
    assert speed.resolve(args, "torch") == (
        "argument --steps-per-execution: Keras' PyTorch backend runs one step per call, got 16")
    args.steps_per_execution = 1
    assert speed.resolve(args, "torch") is None


@pytest.mark.slow
def test_rnn_cell_flag_builds_that_cell(results_dir):
    completed = run_script("rnn_mnist.py", "--dry-run", "--cell", "gru", "--units", "32",
                           "--results-dir", results_dir)
    assert completed.returncode == 0, completed.stderr
    record = read_record(only_run_folder(results_dir, "rnn_mnist"))
    assert record["hyperparameters"]["cell"] == "gru"
    # GRU(32) on 28 features (reset_after: 3 gates x 2 biases) + Dense(10)
    assert record["parameters"] == 3 * (28 * 32 + 32 * 32 + 2 * 32) + (32 * 10 + 10)
    assert "│ gru (GRU)" in completed.stdout


@pytest.mark.slow
def test_mnist_samples(results_dir):
    completed = run_script("mnist_samples.py", "--results-dir", results_dir)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert ("Train labels:  {0: 5923, 1: 6742, 2: 5958, 3: 6131, 4: 5842, 5: 5421, 6: 5918, "
            "7: 6265, 8: 5851, 9: 5949}") in lines
    assert ("Test labels:  {0: 980, 1: 1135, 2: 1032, 3: 1010, 4: 982, 5: 892, 6: 958, "
            "7: 1028, 8: 974, 9: 1009}") in lines
    folder = only_run_folder(results_dir, "mnist_samples")
    record = read_record(folder)
    assert record["train_label_counts"]["7"] == 6265
    assert len(record["sample_indexes"]) == 25 == len(record["sample_labels"])
    assert all(0 <= index < 60000 for index in record["sample_indexes"])
    assert_png(os.path.join(folder, "mnist-samples.png"))
    assert sorted(os.listdir(folder)) == ["mnist-samples.png", "record.json"]
