"""Keras' Dropout compiled by XLA on a CPU (TensorFlow backend): the same masks, far sooner.

Keras 3.15's TensorFlow dropout calls `tf.nn.experimental.stateless_dropout` without naming a
random-number algorithm ("auto_select"). Compiled by XLA for a CPU, that draws each mask by a
path that made an epoch of Table 1.3.2's rows 9 (256-512-256) and 12 (512-1024-512) several
times longer (results/investigations/xla-cpu/). Naming Philox, which is what "auto_select"
gives under XLA on a CPU, draws the very same bits by a fast path:
tests/test_xla_dropout.py trains with and without this and compares the weights. Only the case
measured is changed: TensorFlow, XLA, a machine without GPUs or TPUs.
"""
from companion.backend import keras


def use_philox(model):
    """Make Keras' dropout name Philox when the model trains on TensorFlow with XLA on a CPU-only
    machine; elsewhere leave Keras as it is. Returns whether it did. Call it after compile()."""
    if keras.backend.backend() != "tensorflow" or not model.jit_compile:
        return False
    import tensorflow as tf

    if any(device.device_type != "CPU" for device in tf.config.list_physical_devices()):
        return False
    from keras.src.backend.tensorflow import random as tf_random

    if not all(hasattr(tf_random, name) for name in ("_cast_seed", "draw_seed",
                                                      "_get_concrete_noise_shape")):
        return False  # a Keras whose dropout is not the one this was written for
    tf_random.dropout = philox_dropout
    model.xla_dropout_philox = True
    return True


def philox_dropout(inputs, rate, noise_shape=None, seed=None):
    """keras.src.backend.tensorflow.random.dropout of Keras 3.15, with rng_alg named."""
    import tensorflow as tf
    from keras.src.backend.tensorflow import random as tf_random

    if rate == 1.0:
        return tf.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    seed = tf_random._cast_seed(tf_random.draw_seed(seed))
    noise_shape = tf_random._get_concrete_noise_shape(inputs, noise_shape)
    return tf.nn.experimental.stateless_dropout(inputs, rate=rate, noise_shape=noise_shape,
                                                seed=seed, rng_alg="philox")
