"""The training set on the device (scan.DeviceEpochs), on JAX's CPU: 1,000 digits make seven
batches of 128 and a last one of 104, so executions of 3 steps end mid-epoch and one execution
of 8 holds the smaller last batch. Prints what tests/test_scan.py judges, as JSON."""
import json

import keras
import numpy as np
import tensorflow as tf

import mlp_mnist
from companion import mnist
from speed import scan

(x, y), _, _ = mnist.load_data(dry_run=True)
x, y = mlp_mnist.preprocess(x[:1000]), keras.utils.to_categorical(y[:1000], 10)

def model(steps, resident, seed=1):
    keras.utils.set_random_seed(seed)
    m = mlp_mnist.build_model(784, 10, [64, 64], 0.45, 0.0, "relu")
    m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
              steps_per_execution=steps)
    if resident is not None:
        assert scan.fuse_executions(m, resident=resident)
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
scan.fuse_executions(counter, resident=True)
history = counter.fit(ids, ids, epochs=3, batch_size=128, verbose=0)
out["visited_once"] = history.history["visited_once"]
out["resident_counter"] = counter.device_resident
epochs = scan.DeviceEpochs(None, x, y, 128, shuffle=True, seed=5)
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
out["fused_under_distribution"] = scan.fuse_executions(model(8, None), resident=True)
print(json.dumps(out))
