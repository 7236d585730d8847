"""Shared plumbing for the Chapter 1 scripts: command line, MNIST loading, results.

The scripts at the top of the repository hold the book's listings; this package holds what
every script needs and the book leaves out (offline data, flag checking, result records), so
that no script repeats another.

Importing this package imports Keras once, quietly: TensorFlow's native start-up messages
("All log messages before absl::InitializeLog()...", oneDNN and CUDA-stub notices) bypass
TF_CPP_MIN_LOG_LEVEL, so they are caught and shown only if the import fails. The scripts print
the backend and devices Keras actually uses instead. Set COMPANION_VERBOSE=1 to see them.
"""
import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def native_stderr_held_back(dropped_for=()):
    """Send file descriptor 2 to a temporary file; replay it if the block raises, unless the
    exception is one of `dropped_for` (errors that explain themselves in one line).

    With COMPANION_VERBOSE=1 set, nothing is held back.
    """
    if os.environ.get("COMPANION_VERBOSE"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException as error:
            os.dup2(saved, 2)
            if not isinstance(error, dropped_for):
                held.seek(0)
                sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def devices():
    """The device Keras trains on when no distribution is set, e.g. ['cpu:0'], ['gpu:0'] (JAX,
    TensorFlow) or ['cuda:0'] (PyTorch): the first of the kind Keras prefers, not every one.

    Finding it starts the backend's runtime (CUDA included, with its notices held back), so
    call this after any device configuration and before training.
    """
    with native_stderr_held_back():
        if keras.backend.backend() == "torch":
            import torch

            if torch.cuda.is_available():  # where Keras' torch backend puts its tensors
                return [f"cuda:{torch.cuda.current_device()}"]
            if torch.backends.mps.is_available():
                return ["mps:0"]
            return ["cpu:0"]
        try:
            return [str(device) for device in keras.distribution.list_devices()[:1]]
        except Exception:  # a backend that cannot list its devices
            return []


_backend = os.environ.get("KERAS_BACKEND", "tensorflow")
_prog = os.path.basename(sys.argv[0])
try:
    with native_stderr_held_back():
        import keras
        if _backend != "tensorflow" and importlib.util.find_spec("tensorflow") is not None:
            # on JAX and PyTorch Keras still feeds arrays through tf.data when TensorFlow is
            # installed; import it here, quietly, rather than with its notices mid-training
            importlib.import_module("tensorflow")
except ModuleNotFoundError as error:
    sys.exit(f"{_prog}: error: the Keras backend {_backend!r} needs the package {error.name!r}; "
             f"install it (pip install {error.name}) or unset KERAS_BACKEND")
except ValueError as error:
    sys.exit(f"{_prog}: error: Keras cannot start the backend {_backend!r} ({error}); set "
             f"KERAS_BACKEND to tensorflow, jax or torch")
