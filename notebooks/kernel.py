"""What a generated notebook calls that its script does not: the parameter cell's values as
the script's command line, and the run's figures shown inline."""
import json
import os
import sys
import time

from IPython.display import Image, display

# flags for other machines and for speed: a notebook runs the listing on one device
LEFT_OUT = {"help", "distribute", "cpu_devices", "fast", "scan", "jit_compile",
            "steps_per_execution"}
_started = {}


def command_line(script, flags, build_parser):
    """The script's parser and the command line that gives the parameter cell's `flags`, only
    those that differ from the script's defaults. sys.argv becomes that command line, as a
    terminal would set it: the parser's name and the run's record (the command that repeats
    it) come from there."""
    sys.argv = [script]
    parser = build_parser()
    argv = []
    for action in parser._actions:
        value = flags.get(action.dest, action.default)
        if action.dest in LEFT_OUT or not action.option_strings or value == action.default:
            continue
        flag = action.option_strings[-1]
        argv += [flag] if action.nargs == 0 else [flag, str(value)]
    sys.argv = [script, *argv]
    _started[script] = time.time()
    return parser, argv


def show_figures(script, results_dir):
    """Every run this notebook's script made since command_line(): where it is, the machine and
    what it reached, from its record, then its figures."""
    parent = os.path.join(results_dir, os.path.splitext(script)[0])
    since = _started.get(script, 0)
    runs = sorted(entry.path for entry in os.scandir(parent)
                  if entry.is_dir() and not entry.name.startswith(".")
                  and entry.stat().st_mtime >= since) if os.path.isdir(parent) else []
    for run in runs:
        with open(os.path.join(run, "record.json"), encoding="utf-8") as file:
            record = json.load(file)
        machine = record["machine"]
        line = (f"{run}: {machine['processor'] or machine['platform']}, "
                f"{machine['cpu_count']} CPUs, {record['keras_backend']} on "
                f"{', '.join(record['devices'])}")
        if "test_accuracy" in record:
            line += (f"; test accuracy {100 * record['test_accuracy']:.1f}%, "
                     f"{record['seconds_per_epoch']:.1f} s per epoch")
        print(line)
        for name in sorted(os.listdir(run)):
            if name.endswith(".png") and name != "model.png":  # the summary above shows it
                display(Image(filename=os.path.join(run, name)))
