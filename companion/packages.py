"""This Python has the packages the scripts need, or one line says how to get them: mostly a
new terminal where the project's .venv was not activated again."""
import importlib.util
import os
import sys

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def missing():
    """None, or the line for a Python without NumPy or Keras (found, not imported: cheap)."""
    absent = [name for name in ("numpy", "keras") if importlib.util.find_spec(name) is None]
    if not absent:
        return None
    venv = os.path.join(PROJECT, ".venv")
    if os.path.isdir(venv) and not os.path.samefile(sys.prefix, venv):
        how = ("activate the project's .venv first (. .venv/bin/activate; on Windows "
               ".venv\\Scripts\\Activate.ps1)")
    else:
        how = "install what the scripts need (python -m pip install -r requirements.txt)"
    return f"this Python ({sys.executable}) has no {' and no '.join(absent)}: {how}"
