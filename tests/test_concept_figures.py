"""concept_figures.py: the arithmetic behind the figures, and each figure in smoke mode."""
import json
import os

import numpy as np
import pytest

import concept_figures as figures
from conftest import only_run_folder, run_script


def test_convolution_steps_equal_keras_conv():
    steps, feature_map = figures.convolution_steps(figures.EXAMPLE_INPUT, figures.EXAMPLE_KERNEL)
    # 1*1 + 2*0 + 4*(-1) + 5*2 = 7, and so on, by hand
    assert [total for _, _, _, total in steps] == [7, 9, 13, 15]
    np.testing.assert_array_equal(feature_map, [[7, 9], [13, 15]])
    np.testing.assert_allclose(
        figures.keras_convolution(figures.EXAMPLE_INPUT, figures.EXAMPLE_KERNEL), feature_map)


def test_classic_kernels_on_a_digit_equal_keras_conv():
    digit = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    for kernel in figures.CLASSIC_KERNELS.values():
        _, by_hand = figures.convolution_steps(digit, kernel.astype(np.float32))
        np.testing.assert_allclose(figures.keras_convolution(digit, kernel), by_hand, atol=1e-5)
    identity = figures.keras_convolution(digit, figures.CLASSIC_KERNELS["identity"], "same")
    np.testing.assert_allclose(identity, digit, atol=1e-6)


@pytest.mark.parametrize("name", figures.ACTIVATIONS)
def test_keras_activations_equal_the_formulas(name):
    x = np.array([-3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0])
    np.testing.assert_allclose(figures.keras_activation(name, x), figures.formula(name, x),
                               rtol=1e-5, atol=1e-6)


def test_selu_constants_are_the_books():
    # selu(x) = k * x for x >= 0 and k * a * (e^x - 1) below, with Table 1.3.1's k and a
    assert figures.keras_activation("selu", np.array([1.0]))[0] == pytest.approx(
        1.0507009873554804934193349852946, rel=1e-6)
    assert figures.keras_activation("selu", np.array([-50.0]))[0] == pytest.approx(
        -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717, rel=1e-6)


@pytest.mark.slow
def test_every_figure_in_smoke_mode(results_dir):
    completed = run_script("concept_figures.py", "--dry-run", "--results-dir", results_dir)
    assert completed.returncode == 0, completed.stderr
    folder = only_run_folder(results_dir, "figures")
    expected = {"activations.png", "convolution_steps.png", "convolution_digit.png",
                "classic_kernels.png", "feature_maps.png", "vanishing_gradients.png",
                "comparison.md", "record.json"}
    assert set(os.listdir(folder)) == expected
    for name in expected - {"comparison.md", "record.json"}:
        with open(os.path.join(folder, name), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", name
    with open(os.path.join(folder, "record.json")) as f:
        numbers = json.load(f)["numbers"]
    assert numbers["convolution"]["keras_ops_conv"] == [[7.0, 9.0], [13.0, 15.0]]
    gradients = numbers["gradients"]
    assert len(gradients["rnn_input_gradient_per_timestep"]["pixels"]["lstm"]) == 784
    sigmoid = gradients["mlp_kernel_gradient_per_layer"]["sigmoid"]
    assert sigmoid[0] < 1e-3 * sigmoid[-1]  # sigmoid's gradient vanishes towards the input
    assert numbers["feature_maps"]["map_shapes"] == [[26, 26, 64], [11, 11, 64], [3, 3, 64]]


def test_unknown_figure_name_is_one_line(tmp_path):
    completed = run_script("concept_figures.py", "--only", "kernels,shapes",
                           "--results-dir", str(tmp_path))
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "concept_figures.py: error: argument --only: unknown figure 'shapes' (choose from "
        "activations, convolution, kernels, feature_maps, gradients, comparison)"]
