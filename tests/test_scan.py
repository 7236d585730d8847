"""speed/scan.py (--scan, on JAX): an execution's steps as one compiled scan, the same
computation as Keras' own loop; what --fast and --scan resolve to; --steps-per-execution epoch."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

import speed
from companion import cli
from conftest import ROOT, only_run_folder, read_record, run_script

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="jax is not installed (pip install jax)")

PROGRAMS = os.path.join(ROOT, "tests", "programs")


def run_on_jax(program):
    """Run tests/programs/<program>.py on the JAX backend; return its JSON line."""
    completed = subprocess.run([sys.executable, os.path.join(PROGRAMS, f"{program}.py")],
                               cwd=ROOT, text=True, capture_output=True, timeout=600,
                               env={**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": ROOT})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@needs_jax
@pytest.mark.slow
def test_fused_executions_compute_what_keras_loop_computes():
    gaps = run_on_jax("fused_equivalence")
    assert gaps["fused"] is True
    assert gaps["fit"] < 1e-5  # dropout on: same seeds, same masks, same updates
    assert gaps["train_on_batch"] < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", pytest.param("jax", marks=needs_jax)])
def test_steps_per_execution_epoch_trains_one_call_per_epoch(backend, results_dir):
    completed = run_script("mlp_mnist.py", "--dry-run", "--steps-per-execution", "epoch",
                           "--results-dir", results_dir,
                           env={**os.environ, "KERAS_BACKEND": backend})
    assert completed.returncode == 0, completed.stderr
    record = read_record(only_run_folder(results_dir, "mlp_mnist"))
    assert record["hyperparameters"]["steps_per_execution"] == "epoch"
    # Keras' own loop on every backend: the scan is --scan's alone
    assert record["execution"] == {"steps_per_execution": 16,  # 2,048 digits / 128
                                   "fused": False, "device_data": False}
    assert "16/16 - " in completed.stdout


def test_scan_runs_each_epoch_from_the_device_and_fast_on_a_gpu_turns_on_nothing(monkeypatch):
    """--scan on JAX resolves to one scan an epoch from the device; --fast on a GPU or TPU (the
    device is faked: this machine has none) turns nothing on, none being measured (issue 39);
    a default run resolves to Keras' own compile() wherever it runs."""
    monkeypatch.setattr(speed, "on_accelerator", lambda backend: True)
    parser = cli.training_parser("A listing.", epochs=1, batch_size=128, optimizer="adam",
                                 dropout=0.45)
    speed.add_arguments(parser, listing="mlp")
    for backend in ("jax", "tensorflow"):
        monkeypatch.setenv("KERAS_BACKEND", backend)
        fast = cli.parse(parser, ["--fast"])
        assert (fast.jit_compile, fast.steps_per_execution, fast.scan, fast.device_data) == \
            ("auto", 1, False, False)
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    scan = cli.parse(parser, ["--scan"])
    assert (scan.steps_per_execution, scan.scan, scan.device_data) == ("epoch", True, True)
    chosen = cli.parse(parser, ["--scan", "--steps-per-execution", "4"])
    assert (chosen.steps_per_execution, chosen.scan) == (4, True)  # a flag given wins
    for backend in ("jax", "tensorflow", "torch"):
        monkeypatch.setenv("KERAS_BACKEND", backend)
        default = cli.parse(parser, [])
        assert (default.jit_compile, default.steps_per_execution, default.scan,
                default.device_data) == ("auto", 1, False, False)
    assert speed.steps_per_execution("epoch") == "epoch" and speed.steps_per_execution("8") == 8
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    with pytest.raises(SystemExit):
        cli.parse(parser, ["--scan"])


def test_one_tensorflow_execution_equals_its_steps_one_by_one():
    """On TensorFlow, Keras' own compiled loop is the fused path: four steps in one call give
    the weights of the same four batches through train_on_batch (dropout off)."""
    import keras
    import numpy as np

    import mlp_mnist
    from companion import mnist

    if keras.backend.backend() != "tensorflow":
        pytest.skip("this process runs another backend")
    (x, y), _, _ = mnist.load_data(dry_run=True)
    x, y = mlp_mnist.preprocess(x[:512]), keras.utils.to_categorical(y[:512], 10)

    def model(steps):
        keras.utils.set_random_seed(1)
        m = mlp_mnist.build_model(784, 10, [256, 256], 0.0, 0.0, "relu")
        m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
                  steps_per_execution=steps)
        return m

    by_batch = model(1)
    for start in range(0, 512, 128):
        by_batch.train_on_batch(x[start:start + 128], y[start:start + 128])
    one_call = model(4)
    one_call.fit(x, y, epochs=1, batch_size=128, shuffle=False, verbose=0)
    gap = max(float(np.max(np.abs(a - b)))
              for a, b in zip(by_batch.get_weights(), one_call.get_weights()))
    assert gap < 1e-5


@pytest.fixture(scope="module")
def device_data_results():
    return run_on_jax("device_epochs")


@needs_jax
@pytest.mark.slow
def test_training_set_on_the_device_trains_as_keras_loop(device_data_results):
    for steps in (3, 8):
        assert device_data_results[f"resident_{steps}"] is True
        assert device_data_results[f"unshuffled_gap_{steps}"] < 1e-6


@needs_jax
@pytest.mark.slow
def test_on_the_device_each_epoch_visits_every_sample_once(device_data_results):
    assert device_data_results["resident_counter"] is True
    assert device_data_results["visited_once"] == [1000.0, 1000.0, 1000.0]
    assert device_data_results["orders_differ"] is True


@needs_jax
@pytest.mark.slow
def test_on_the_device_a_seed_gives_the_same_run(device_data_results):
    assert device_data_results["same_seed_gap"] == 0.0
    assert device_data_results["other_seed_gap"] > 1e-3


@needs_jax
@pytest.mark.slow
def test_inputs_the_device_path_does_not_cover_take_keras_path(device_data_results):
    for name in ("generator", "dataset", "sample_weight"):
        assert device_data_results[f"fallback_{name}"] == [False, 1], name
    assert device_data_results["fused_under_distribution"] is False
