"""The benchmark's FLOP count, checked against the arithmetic written out by hand."""
import cnn_mnist
import epoch_time  # benchmarks/ is on pytest's pythonpath (pyproject.toml)
import mlp_mnist
import rnn_mnist


def test_mlp_listing():
    model = mlp_mnist.build_model(784, 10, [256, 256], 0.45, 0.0, "relu")
    forward = 2 * (784 * 256 + 256 * 256 + 256 * 10)
    input_gradients = 2 * (256 * 256 + 256 * 10)  # none for the first layer
    assert epoch_time.training_flops_per_sample(model) == 2 * forward + input_gradients
    assert epoch_time.training_flops_per_sample(model) * 60000 == 72_683_520_000


def test_cnn_listing():
    model = cnn_mnist.build_model((28, 28, 1), 10, 64, 3, 2, 0.2)
    conv = [2 * 9 * 1 * 64 * 26 * 26, 2 * 9 * 64 * 64 * 11 * 11, 2 * 9 * 64 * 64 * 3 * 3]
    dense = 2 * 576 * 10
    forward = sum(conv) + dense
    assert epoch_time.training_flops_per_sample(model) == 2 * forward + sum(conv[1:]) + dense


def test_rnn_listing_counts_backpropagation_through_time():
    model = rnn_mnist.build_model((28, 28), 10, 256, 0.2, "simple")
    recurrent = 2 * 28 * 256 * 256
    forward = 2 * 28 * 28 * 256 + recurrent + 2 * 256 * 10
    expected = 2 * forward + recurrent + 2 * 256 * 10
    assert epoch_time.training_flops_per_sample(model) == expected


def test_lstm_has_four_gates():
    def flops(cell):
        model = rnn_mnist.build_model((28, 28), 10, 64, 0, cell)
        return epoch_time.training_flops_per_sample(model)

    simple, lstm = flops("simple"), flops("lstm")
    dense = 3 * 2 * 64 * 10  # the Dense layer: forward, weight and input gradients
    assert lstm - dense == 4 * (simple - dense)


def test_kernel_bound_times_every_forward_flop_of_each_listing():
    """The kernels whose rates make the kernel bound are exactly the layers' forward FLOPs."""
    listings = [mlp_mnist.build_model(784, 10, [256, 256], 0.45, 0.0, "relu"),
                cnn_mnist.build_model((28, 28, 1), 10, 64, 3, 2, 0.2),
                rnn_mnist.build_model((28, 28), 10, 256, 0.2, "simple")]
    for model in listings:
        for layer in model.layers:
            kernels = epoch_time.layer_kernels(layer, 128)
            assert sum(flops * calls for *_, flops, calls in kernels) == \
                128 * epoch_time.layer_flops(layer)[0], layer.name
    conv = epoch_time.layer_kernels(listings[1].layers[2], 128)  # the second Conv2D
    assert conv == [("conv", (128, 13, 13, 64), (3, 3, 64, 64), 128 * 2 * 9 * 64 * 64 * 11 * 11, 1)]
