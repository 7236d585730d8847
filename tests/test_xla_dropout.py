"""companion/xla_dropout.py: on TensorFlow with XLA on a CPU, Keras' dropout with Philox named
draws the same masks as Keras' own, so training gives the same weights."""
import json
import os
import subprocess
import sys

from conftest import ROOT

# Trains the MLP listing (dropout on, XLA) on 2,048 digits with Keras' dropout as it is, then
# with Philox named, then with Threefry named (which must differ: the comparison can fail);
# prints what use_philox returned and the largest weight differences as JSON.
COMPARISON = """
import json, numpy as np, keras
from keras.src.backend.tensorflow import random as tf_random
from companion import mnist, xla_dropout
import mlp_mnist
(x, y), _, _ = mnist.load_data(dry_run=True)
x, y = mlp_mnist.preprocess(x), keras.utils.to_categorical(y)

def weights(jit_compile, patch=None):
    keras.utils.set_random_seed(1)
    m = mlp_mnist.build_model(784, 10, [512, 256], 0.45, 0.0, "relu")
    m.compile(loss="categorical_crossentropy", optimizer="sgd", jit_compile=jit_compile,
              steps_per_execution=4)
    used = patch(m) if patch else False
    m.fit(x, y, epochs=1, batch_size=128, verbose=0)
    return used, m.get_weights()

def largest_difference(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a, b))

keras_own = tf_random.dropout
_, without_xla = weights(False, xla_dropout.use_philox)
assert tf_random.dropout is keras_own  # not XLA: left as it was
_, keras_masks = weights(True)
philox_used, philox_masks = weights(True, xla_dropout.use_philox)

def threefry(inputs, rate, noise_shape=None, seed=None):
    import tensorflow as tf
    seed = tf_random._cast_seed(tf_random.draw_seed(seed))
    return tf.nn.experimental.stateless_dropout(inputs, rate=rate, seed=seed,
                                                rng_alg="threefry")

def use_threefry(model):
    tf_random.dropout = threefry
    return True

_, threefry_masks = weights(True, use_threefry)
print(json.dumps({"philox_used": philox_used,
                  "philox": largest_difference(keras_masks, philox_masks),
                  "threefry": largest_difference(keras_masks, threefry_masks)}))
"""


def test_philox_named_under_xla_trains_to_the_same_weights_as_keras_own_dropout():
    completed = subprocess.run([sys.executable, "-c", COMPARISON], cwd=ROOT, capture_output=True,
                               text=True, timeout=600,
                               env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    assert found["philox_used"] is True
    assert found["philox"] == 0.0  # bit for bit
    assert found["threefry"] > 1e-3  # other masks train to other weights
