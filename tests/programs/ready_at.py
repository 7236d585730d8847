"""Run a script as `python SCRIPT ARGS` would, and write `ready` on stdout the moment it reaches
a point of its start-up, so that a test can interrupt it there instead of after a guessed sleep:

    python tests/programs/ready_at.py parse mlp_mnist.py --dry-run     # reading its flags
    python tests/programs/ready_at.py import:keras mlp_mnist.py ...    # importing Keras

    python tests/programs/ready_at.py call:distribute.strategies._multi_worker_strategy SCRIPT ...

`parse`: argparse starts parsing the command line (the script's Ctrl-C handling for start-up is
in place by then); `import:MODULE`: Python starts importing MODULE; `call:MODULE.FUNCTION`:
the script is about to call FUNCTION, which then waits for a line on stdin (a multi-worker
test frees the port a worker is about to bind only then).
"""
import argparse
import importlib
import os
import runpy
import sys


def say_ready_once():
    if not say_ready_once.said:
        say_ready_once.said = True
        os.write(sys.stdout.fileno(), b"ready\n")  # unbuffered: the test reads it at once


say_ready_once.said = False


class ReadyOnImport:
    """A finder that finds nothing: it only notices the first import of one module."""

    def __init__(self, module):
        self.module = module

    def find_spec(self, name, path=None, target=None):
        if name == self.module:
            say_ready_once()
        return None


def main():
    point, script, *arguments = sys.argv[1:]
    if point == "parse":
        parse_args = argparse.ArgumentParser.parse_args

        def parse_args_when_ready(parser, *args, **kwargs):
            say_ready_once()
            return parse_args(parser, *args, **kwargs)

        argparse.ArgumentParser.parse_args = parse_args_when_ready
    elif point.startswith("import:"):
        sys.meta_path.insert(0, ReadyOnImport(point.split(":", 1)[1]))
    elif point.startswith("call:"):
        module_name, function_name = point.split(":", 1)[1].rsplit(".", 1)
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
        module = importlib.import_module(module_name)
        function = getattr(module, function_name)

        def when_told(*args, **kwargs):
            say_ready_once()
            sys.stdin.readline()
            return function(*args, **kwargs)

        setattr(module, function_name, when_told)
    else:
        raise SystemExit(f"unknown point {point!r}: parse, import:MODULE or call:MODULE.FUNCTION")
    sys.argv = [script, *arguments]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
