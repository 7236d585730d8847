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
                                   "device_data": False,  # a CPU: the training set stays put
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


# The training set on the device (fused.DeviceEpochs), on JAX's CPU: 1,000 digits make seven
# batches of 128 and a last one of 104, so executions of 3 steps end mid-epoch and one execution
# of 8 holds the smaller last batch. Prints what the tests below judge, as JSON.
DEVICE_DATA = """
import json, numpy as np, keras, tensorflow as tf
from companion import fused, mnist
import mlp_mnist
(x, y), _, _ = mnist.load_data(dry_run=True)
x, y = mlp_mnist.preprocess(x[:1000]), keras.utils.to_categorical(y[:1000], 10)

def model(steps, resident, seed=1):
    keras.utils.set_random_seed(seed)
    m = mlp_mnist.build_model(784, 10, [64, 64], 0.45, 0.0, "relu")
    m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
              steps_per_execution=steps)
    if resident is not None:
        assert fused.fuse_executions(m, resident=resident)
    return m

def gap(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a.get_weights(), b.get_weights()))

class VisitedOnce(keras.metrics.Metric):  # how many samples an epoch's batches held just once
    def __init__(self, samples):
        super().__init__(name="visited_once")
        self.visits = self.add_variable(shape=(samples,), initializer="zeros", name="visits")
    def update_state(self, y_true, y_pred, sample_weight=None):
        ids = keras.ops.cast(y_true[:, 0], "int32")
        self.visits.assign(self.visits + keras.ops.sum(keras.ops.one_hot(ids, 1000), axis=0))
    def result(self):
        return keras.ops.sum(keras.ops.cast(self.visits == 1, "float32"))

out = {}
for steps in (3, 8):  # shuffling off: the device's batches are Keras' own, in Keras' order
    loop, on_device = model(steps, None), model(steps, True)
    loop.fit(x, y, epochs=2, batch_size=128, shuffle=False, verbose=0)
    on_device.fit(x, y, epochs=2, batch_size=128, shuffle=False, verbose=0)
    out[f"unshuffled_gap_{steps}"] = gap(loop, on_device)
    out[f"resident_{steps}"] = on_device.device_resident
runs = []
for seed in (1, 1, 2):
    m = model(8, True, seed)
    m.fit(x, y, epochs=2, batch_size=128, verbose=0)
    runs.append(m)
out["same_seed_gap"], out["other_seed_gap"] = gap(runs[0], runs[1]), gap(runs[0], runs[2])
ids = np.arange(1000, dtype="float32")[:, None]
keras.utils.set_random_seed(1)
counter = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
counter.compile(loss="mse", optimizer="sgd", metrics=[VisitedOnce(1000)], steps_per_execution=3)
fused.fuse_executions(counter, resident=True)
history = counter.fit(ids, ids, epochs=3, batch_size=128, verbose=0)
out["visited_once"] = history.history["visited_once"]
out["resident_counter"] = counter.device_resident
epochs = fused.DeviceEpochs(None, x, y, 128, shuffle=True, seed=5)
out["orders_differ"] = bool(np.any(epochs.order(epochs.key, 0) != epochs.order(epochs.key, 1)))
fallbacks = {
    "generator": lambda m: m.fit(((x[i:i + 128], y[i:i + 128]) for i in range(0, 1000, 128)),
                                 epochs=1, steps_per_epoch=7, verbose=0),
    "dataset": lambda m: m.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(128),
                               epochs=1, verbose=0),
    "sample_weight": lambda m: m.fit(x, y, sample_weight=np.ones(1000), epochs=1,
                                     batch_size=128, verbose=0),
}
for name, fit in fallbacks.items():
    m = model(8, True)
    history = fit(m)
    out[f"fallback_{name}"] = [m.device_resident, len(history.history["loss"])]
keras.distribution.set_distribution(keras.distribution.DataParallel())
out["fused_under_distribution"] = fused.fuse_executions(model(8, None), resident=True)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def device_data_results():
    completed = subprocess.run([sys.executable, "-c", DEVICE_DATA], cwd=ROOT, text=True,
                               capture_output=True, timeout=600,
                               env={**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": ROOT})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


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


def test_device_data_yes_needs_jax():
    completed = run_script("mlp_mnist.py", "--device-data", "yes",
                           env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    assert completed.returncode == 2
    assert completed.stderr.strip() == ("mlp_mnist.py: error: argument --device-data: yes needs "
                                        "the jax backend (KERAS_BACKEND is tensorflow)")


@needs_jax
@pytest.mark.slow
def test_a_listing_trains_from_the_device_through_its_command_line(results_dir):
    completed = run_script("mlp_mnist.py", "--dry-run", "--device-data", "yes",
                           "--steps-per-execution", "epoch", "--results-dir", results_dir,
                           env={**os.environ, "KERAS_BACKEND": "jax"})
    assert completed.returncode == 0, completed.stderr
    record = read_record(only_run_folder(results_dir, "mlp_mnist"))
    assert record["hyperparameters"]["device_data"] == "yes"
    assert record["execution"] == {"steps_per_execution": 16, "fused": True,
                                   "device_data": True, "xla_dropout_philox": False}
    assert "16/16 - " in completed.stdout
    assert record["test_accuracy"] > 0.5  # one epoch of 16 steps on 2,048 digits: it learns
