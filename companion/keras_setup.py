"""What Keras will start with, read before it is imported: this Python's packages, keras.json,
the backend. One line for what would stop it (mostly a terminal without the .venv activated)."""
import importlib.util
import json
import os
import sys

from companion.errors import shortened

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINING_BACKENDS = ("tensorflow", "jax", "torch")  # Keras' others (numpy, openvino) cannot fit


def keras_home():
    """$KERAS_HOME, else ~/.keras: where Keras keeps keras.json and its downloads."""
    return os.environ.get("KERAS_HOME") or os.path.expanduser("~/.keras")


def keras_json():
    """keras.json's path and what it holds (None when absent or not JSON: Keras ignores it)."""
    path = os.path.join(keras_home(), "keras.json")
    try:
        with open(path, encoding="utf-8") as f:
            return path, json.load(f)
    except (OSError, ValueError):
        return path, None


def configured_backend():
    """The backend Keras will start: $KERAS_BACKEND, else keras.json's, else tensorflow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    settings = keras_json()[1]
    return settings.get("backend", "tensorflow") if isinstance(settings, dict) else "tensorflow"


def problem():
    """None, or the line: no NumPy or Keras here (found, not imported), a keras.json that stops
    Keras, a backend that cannot train."""
    absent = [name for name in ("numpy", "keras") if importlib.util.find_spec(name) is None]
    if absent:
        venv = os.path.join(PROJECT, ".venv")
        how = ("activate the project's .venv first (. .venv/bin/activate; on Windows "
               ".venv\\Scripts\\Activate.ps1)" if os.path.isdir(venv) and
               not os.path.samefile(sys.prefix, venv) else
               "install what the scripts need (python -m pip install -r requirements.txt)")
        return f"this Python ({sys.executable}) has no {' and no '.join(absent)}: {how}"
    path, settings = keras_json()
    if settings is not None and not isinstance(settings, dict):
        return f"{path} holds no settings object, which stops Keras; fix it or delete it"
    backend = configured_backend()
    if backend not in TRAINING_BACKENDS:
        named_by = "KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else "keras.json's backend"
        return (f"{named_by}={shortened(backend)}: these scripts train with "
                f"{', '.join(TRAINING_BACKENDS)}; set KERAS_BACKEND to one of them")
