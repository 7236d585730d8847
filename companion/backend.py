"""Keras, started quietly: TensorFlow's native start-up messages ("All log messages before
absl::InitializeLog()...", oneDNN and CUDA-stub notices) bypass TF_CPP_MIN_LOG_LEVEL, so they are
caught while Keras imports and shown only if the import fails (COMPANION_VERBOSE=1 shows them).
Every module of the package that uses Keras imports it from here, after the flags are checked.
"""
import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile
import warnings

from companion.errors import UserError
from companion.keras_setup import configured_backend

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def quiet_native_stderr(unless_raising_one_of=()):
    """Send file descriptor 2 to a temporary file; replay it if the block raises, unless the
    exception is one of `unless_raising_one_of` (errors that explain themselves in one line).

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
            if not isinstance(error, unless_raising_one_of):
                held.seek(0)
                sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def devices():
    """The device Keras trains on when no distribution is set, e.g. ['cpu:0'], ['gpu:0'] (JAX,
    TensorFlow) or ['cuda:0'] (PyTorch). It starts the backend's runtime (CUDA's notices held
    back): call it after any device configuration."""
    with quiet_native_stderr():
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


def _import_keras():
    backend = configured_backend()
    # Keras' own calls that NumPy 2 deprecates are no reader's to fix: under PYTHONWARNINGS=error
    # they would stop a run once it has trained
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"keras\.")
    try:
        with quiet_native_stderr():
            import keras
            keras.config.set_image_data_format("channels_last")  # the listings', not keras.json's
            if backend != "tensorflow" and importlib.util.find_spec("tensorflow") is not None:
                # on JAX and PyTorch Keras still feeds arrays through tf.data when TensorFlow
                # is installed; import it here, quietly, rather than with its notices mid-training
                importlib.import_module("tensorflow")
    except ModuleNotFoundError as error:
        raise UserError(f"the Keras backend {backend!r} needs the package {error.name!r}; "
                        f"install it (pip install {error.name}) or unset KERAS_BACKEND") from None
    except ValueError as error:
        raise UserError(f"Keras cannot start the backend {backend!r} ({error}); set "
                        f"KERAS_BACKEND to tensorflow, jax or torch") from None
    except (ImportError, MemoryError) as error:  # e.g. a memory limit (ulimit -v) too low
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise UserError(f"Keras cannot load the backend {backend!r} ({reason}): too little "
                        f"memory for it (a limit set with ulimit -v?) or a broken "
                        f"installation") from None
    return keras


try:
    keras = _import_keras()
except UserError as error:  # raised on import, before lifecycle.run_main: the same line, exit 2
    print(f"{os.path.basename(sys.argv[0])}: error: {error}", file=sys.stderr)
    sys.exit(2)
