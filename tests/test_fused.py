"""companion/fused.py: an execution's steps as one compiled scan on JAX, the same computation as
Keras' own loop; and --steps-per-execution epoch on every backend."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from companion import cli
from conftest import ROOT, only_run_folder, read_record, run_script

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="jax is not installed (pip install jax)")

# Trains the MLP listing (dropout on) on 2,048 digits with Keras' loop and with fused
# executions, and one batch at a time with train_on_batch (dropout off) against one fused
# execution of the same batches; prints the largest weight differences as JSON.
EQUIVALENCE = """
import json, numpy as np, keras
from companion import fused, mnist
import mlp_mnist
(x, y), _, _ = mnist.load_data(dry_run=True)
x, y = mlp_mnist.preprocess(x), keras.utils.to_categorical(y)

def model(dropout, steps, fuse):
    keras.utils.set_random_seed(1)
    m = mlp_mnist.build_model(784, 10, [256, 256], dropout, 0.0, "relu")
    m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
              steps_per_execution=steps)
    if fuse:
        assert fused.fuse_executions(m)
    return m

def gap(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a.get_weights(), b.get_weights()))

loop = model(0.45, 16, False)  # each fit right after its seed: fit's shuffling draws from it
loop.fit(x, y, epochs=2, batch_size=128, verbose=0)
scan = model(0.45, 16, True)
scan.fit(x, y, epochs=2, batch_size=128, verbose=0)
by_batch, one_execution = model(0.0, 1, False), model(0.0, 4, True)
for start in range(0, 512, 128):
    by_batch.train_on_batch(x[start:start + 128], y[start:start + 128])
one_execution.fit(x[:512], y[:512], epochs=1, batch_size=128, shuffle=False, verbose=0)
print(json.dumps({"fit": gap(loop, scan), "train_on_batch": gap(by_batch, one_execution),
                  "fused": bool(getattr(scan, "fused_executions", False))}))
"""


@needs_jax
@pytest.mark.slow
def test_fused_executions_compute_what_keras_loop_computes():
    completed = subprocess.run([sys.executable, "-c", EQUIVALENCE], cwd=ROOT, text=True,
                               capture_output=True, timeout=600,
                               env={**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": ROOT})
    assert completed.returncode == 0, completed.stderr[-3000:]
    gaps = json.loads(completed.stdout.strip().splitlines()[-1])
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
    assert record["execution"] == {"steps_per_execution": 16,  # 2,048 digits / 128
                                   "fused": backend == "jax",
                                   # the MLP's XLA default on TensorFlow, on a CPU-only machine
                                   "xla_dropout_philox": backend == "tensorflow"}
    assert "16/16 - " in completed.stdout


def test_the_epoch_per_call_default_is_for_jax_accelerators_only():
    assert cli.speed_defaults("mlp", "jax", accelerator=True)["steps_per_execution"] == "epoch"
    assert cli.speed_defaults("cnn", "jax", accelerator=False)["steps_per_execution"] == 16
    assert cli.speed_defaults("rnn", "tensorflow", accelerator=False)["steps_per_execution"] == 16
    assert cli.speed_defaults("mlp", "torch", accelerator=True)["steps_per_execution"] == 1
    assert cli.steps_per_execution("epoch") == "epoch" and cli.steps_per_execution("8") == 8


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
