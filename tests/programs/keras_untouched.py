"""Run a listing's main() with the given flags and report whether Keras was left as it was:
every function, class and attribute of every loaded keras module and of keras.Model, compared
by identity before and after, and any method that a model instance holds in place of its
class's. Prints one JSON line: the changed names, the overridden methods, the run's record and the
companion/ modules the run loaded, with their lines.

    KERAS_BACKEND=jax python tests/programs/keras_untouched.py mlp_mnist --dry-run --results-dir DIR

`--as-accelerator` first makes --fast resolve as on a GPU or TPU (this machine has none).
"""
import importlib
import json
import sys


def keras_names():
    """(module or class, attribute) -> id of the object, for every loaded keras module and the
    Model class and its bases."""
    import keras

    seen = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "keras" or name.startswith("keras.")):
            continue
        for attribute, value in list(vars(module).items()):
            seen[f"{name}.{attribute}"] = id(value)
    for cls in keras.Model.__mro__:
        for attribute, value in vars(cls).items():
            seen[f"{cls.__module__}.{cls.__qualname__}.{attribute}"] = id(value)
    return seen


def overridden_methods():
    """Methods a live model instance holds in place of its class's (fit, train_function's
    maker, ...): none on Keras' own path."""
    import gc

    import keras

    found = []
    for obj in gc.get_objects():
        if isinstance(obj, keras.Model):
            found += [name for name in ("fit", "make_train_function", "train_step", "evaluate")
                      if name in vars(obj)]
    return found


def companion_modules_loaded():
    """{path: lines} of the companion/ modules this process has loaded."""
    import os

    found = {}
    for name, module in list(sys.modules.items()):
        if name == "companion" or name.startswith("companion."):
            with open(module.__file__) as f:
                found[os.path.relpath(module.__file__)] = sum(1 for _ in f)
    return found


def main():
    arguments = sys.argv[1:]
    if arguments[0] == "--as-accelerator":
        import speed

        speed.on_accelerator = lambda backend: True
        arguments = arguments[1:]
    script, *flags = arguments
    module = importlib.import_module(script)  # the script's own imports: Keras is loaded
    before = keras_names()
    folder = module.main(flags)
    after = keras_names()
    changed = sorted(name for name, ident in before.items() if after.get(name) != ident)
    with open(f"{folder}/record.json") as f:
        record = json.load(f)
    print(json.dumps({"changed": changed, "overridden": overridden_methods(),
                      "hyperparameters": record["hyperparameters"],
                      "execution": record["execution"], "backend": record["keras_backend"],
                      "companion_loaded": companion_modules_loaded()}))


if __name__ == "__main__":
    main()
