"""What Keras will start with, read before it is imported: the packages this Python has and the
backend KERAS_BACKEND or keras.json names. One line for what would stop it, which is mostly a
new terminal where the project's .venv was not activated again."""
import importlib.util
import json
import os
import sys

from companion.errors import shortened

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINING_BACKENDS = ("tensorflow", "jax", "torch")  # Keras' others (numpy, openvino) cannot fit


def keras_json():
    """keras.json's path and what it holds (None when absent or not JSON: Keras ignores it)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    path = os.path.join(home, "keras.json")
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
    """None, or the line for what would stop Keras: no NumPy or Keras in this Python (found, not
    imported: cheap), a keras.json Keras cannot read, a backend that cannot train."""
    absent = [name for name in ("numpy", "keras") if importlib.util.find_spec(name) is None]
    if absent:
        venv = os.path.join(PROJECT, ".venv")
        if os.path.isdir(venv) and not os.path.samefile(sys.prefix, venv):
            how = ("activate the project's .venv first (. .venv/bin/activate; on Windows "
                   ".venv\\Scripts\\Activate.ps1)")
        else:
            how = "install what the scripts need (python -m pip install -r requirements.txt)"
        return f"this Python ({sys.executable}) has no {' and no '.join(absent)}: {how}"
    path, settings = keras_json()
    if settings is not None and not isinstance(settings, dict):
        return f"{path} holds no settings object, which stops Keras; fix it or delete it"
    backend = configured_backend()
    if backend not in TRAINING_BACKENDS:
        named_by = "KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else "keras.json's backend"
        return (f"{named_by}={shortened(backend)}: these scripts train with "
                f"{', '.join(TRAINING_BACKENDS)}; set KERAS_BACKEND to one of them")
    return None
