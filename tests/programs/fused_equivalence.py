"""The MLP listing (dropout on) on 2,048 digits through Keras' loop and through fused
executions (speed/scan.py), and one batch at a time with train_on_batch (dropout off)
against one fused execution of the same batches; prints the largest weight differences as JSON.
Run on the JAX backend by tests/test_scan.py."""
import json

import keras
import numpy as np

import mlp_mnist
from companion import mnist
from speed import scan

(x, y), _, _ = mnist.load_data(dry_run=True)
x, y = mlp_mnist.preprocess(x), keras.utils.to_categorical(y)

def model(dropout, steps, fuse):
    keras.utils.set_random_seed(1)
    m = mlp_mnist.build_model(784, 10, [256, 256], dropout, 0.0, "relu")
    m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
              steps_per_execution=steps)
    if fuse:
        assert scan.fuse_executions(m)
    return m

def gap(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a.get_weights(), b.get_weights()))

loop = model(0.45, 16, False)  # each fit right after its seed: fit's shuffling draws from it
loop.fit(x, y, epochs=2, batch_size=128, verbose=0)
scanned = model(0.45, 16, True)
scanned.fit(x, y, epochs=2, batch_size=128, verbose=0)
by_batch, one_execution = model(0.0, 1, False), model(0.0, 4, True)
for start in range(0, 512, 128):
    by_batch.train_on_batch(x[start:start + 128], y[start:start + 128])
one_execution.fit(x[:512], y[:512], epochs=1, batch_size=128, shuffle=False, verbose=0)
print(json.dumps({"fit": gap(loop, scanned), "train_on_batch": gap(by_batch, one_execution),
                  "fused": bool(getattr(scanned, "fused_executions", False))}))
