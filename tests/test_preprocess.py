"""The reshape each script applies: the notes' 3x3 example, then MNIST's own shapes."""
import numpy as np
import pytest

import cnn_mnist
import mlp_mnist
import rnn_mnist

# A 3x3 "image" whose pixel values give their row-major position, as in the notes' figure.
THREE_BY_THREE = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]]], dtype=np.uint8)


def test_mlp_flattens_rows_in_order():
    x = mlp_mnist.preprocess(THREE_BY_THREE)
    assert x.shape == (1, 9)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x[0] * 255, [0, 1, 2, 3, 4, 5, 6, 7, 8])


def test_cnn_adds_one_channel():
    x = cnn_mnist.preprocess(THREE_BY_THREE)
    assert x.shape == (1, 3, 3, 1)
    np.testing.assert_allclose(x[0, :, :, 0] * 255, THREE_BY_THREE[0])


def test_rnn_makes_rows_timesteps():
    x = rnn_mnist.preprocess(THREE_BY_THREE)
    assert x.shape == (1, 3, 3)
    # timestep t is image row t
    np.testing.assert_allclose(x[0, 1] * 255, [3, 4, 5])


@pytest.mark.parametrize("script, shape", [(mlp_mnist, (60000, 784)),
                                           (cnn_mnist, (60000, 28, 28, 1)),
                                           (rnn_mnist, (60000, 28, 28))])
def test_mnist_shapes_and_scale(script, shape):
    images = np.full((60000, 28, 28), 255, dtype=np.uint8)
    images[0, 0, 0] = 0
    x = script.preprocess(images)
    assert x.shape == shape
    assert x.dtype == np.float32
    assert x.max() == 1.0 and x.min() == 0.0
