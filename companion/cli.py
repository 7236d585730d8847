"""The command line the scripts share: flags with the book's defaults, checked before any work.

Every bad value ends the script with exit status 2 and one line, `script.py: error: ...`,
before Keras is imported, any data is loaded or any file is written (companion/keras_setup.py
reads what Keras will start with).
"""
import argparse
import math
import os

from companion import keras_setup, lifecycle
from companion.errors import shortened
from companion.files import results_dir_problem

OPTIMIZERS = ("sgd", "adam", "rmsprop")
_FROM_THE_COMMAND_LINE = {}  # script name: its flags, parsed once a run


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block), as the project promises, and a
    value quoted in it is cut short."""

    def _get_values(self, action, arg_strings):  # a lone '--' would reach the flag as []
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: expected a value, got '--'")
        return super()._get_values(action, arg_strings)

    def error(self, message):
        message = " ".join(message.split())  # a value holding newlines stays on the line
        if len(message) > 300:
            message = message[:280] + f"... ({len(message)} characters)"
        self.exit(2, f"{self.prog}: error: {message}\n")


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {shortened(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value + 0.0  # -0 is recorded as 0.0


def _integer(text):
    return int(text) if text.strip().lstrip("+-").isdigit() and len(text) < 100 else None


def number(read, accept, expected):
    """An argparse type: `read` the text, then refuse what `accept` does not ('<expected>, got')."""
    def parse(text):
        value = read(text)
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"{expected}, got {shortened(text)}")
        return value
    return parse


def int_range(low, high):
    """An argparse type: an integer from `low` to `high`, the range training can honour."""
    return number(_integer, lambda v: low <= v <= high, f"expected an integer from {low} to {high}")


# the ranges of the numeric flags: what a run can honour, refused at parse time beyond
epoch_count = int_range(1, 10_000)
batch_samples = int_range(1, 60_000)  # MNIST's training set; a larger batch is the whole set
layer_width = int_range(1, 2048)  # units, filters: the CNN, batch 128, 4 GB at 2048, 10 at 4096
window_size = int_range(1, 28)  # kernel and pooling sizes: at most a digit's side
device_count = int_range(1, 64)  # logical CPU devices, --jobs
# NumPy's and the backends' seeds are 32-bit: a larger one would fail only after start-up
seed = number(_integer, lambda v: 0 <= v < 2**32, "expected a seed from 0 to 4294967295")
dropout_rate = number(_float, lambda v: 0 <= v < 1, "dropout rate must be in [0, 1)")
non_negative_float = number(_float, lambda v: v >= 0, "expected a number >= 0")
positive_float = number(_float, lambda v: v > 0, "expected a number > 0")


def seed_list(text):
    """'1,2,3' -> [1, 2, 3]; a seed named twice is refused (it would train the same run twice)."""
    try:
        seeds = [seed(part) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected seeds from 0 to 4294967295 like 1,2,3, got "
                                         f"{shortened(text)}") from None
    if len(set(seeds)) < len(seeds):
        raise argparse.ArgumentTypeError(f"each seed once, got {shortened(text)}")
    return seeds


def layer_widths(text):
    """'256-256-256' (the tables' spelling) or '256,256,256' -> [256, 256, 256]."""
    parts = text.replace(",", "-").split("-")
    widths = [int(part) if part.strip().isdigit() and len(part) < 9 else 0 for part in parts[:65]]
    if len(parts) > 64 or not all(0 < width <= 65_536 for width in widths) or \
            sum(a * b for a, b in zip([784, *widths], [*widths, 10])) > 10**8:  # 784 in, 10 out
        raise argparse.ArgumentTypeError(
            f"layer list {shortened(text)}: expected up to 64 widths from 1 to 65536, at most "
            f"100,000,000 weights in all, such as 256-256-256")
    return widths


def optimizer_name(text):
    name = text.lower()
    if name not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"unknown optimizer {text!r} (choose from "
                                         f"{', '.join(OPTIMIZERS)})")
    return name


def training_parser(doc, *, epochs, batch_size, optimizer, dropout):
    """The flags every training script shares, with its book defaults, listed after its own."""
    parser = new_parser(doc)
    shared = parser.add_argument_group("the flags every training script shares")
    shared.add_argument("--epochs", type=epoch_count, default=epochs, metavar="N",
                        help="passes over the training set")
    shared.add_argument("--batch-size", type=batch_samples, default=batch_size, metavar="N",
                        help="samples per gradient update (the book's batch_size)")
    shared.add_argument("--optimizer", type=optimizer_name, default=optimizer,
                        metavar="{" + ",".join(OPTIMIZERS) + "}",
                        help="with Keras' default settings (SGD: learning rate 0.01, no momentum; "
                             "Adam and RMSprop: 0.001)")
    shared.add_argument("--dropout", type=dropout_rate, default=dropout, metavar="RATE",
                        help="rate of the listing's Dropout layers, in [0, 1)")
    add_common_arguments(shared)
    return parser


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except for on/off switches and flags without one."""

    def _get_help_string(self, action):
        if any(action.default is value for value in (None, False, argparse.SUPPRESS)):
            return action.help
        return super()._get_help_string(action)


def new_parser(doc):
    """A parser whose --help starts with the script docstring's first line (none under
    python -OO, which drops docstrings)."""
    return OneLineParser(description=doc.strip().splitlines()[0] if doc else None,
                         formatter_class=DefaultsHelpFormatter)


def add_common_arguments(parser, dry_run="smoke test: 2,048 training digits, one epoch"):
    """--seed, --dry-run (what it does here: `dry_run`) and --results-dir, on every script."""
    parser.add_argument("--seed", type=seed, default=1, metavar="N",
                        help="seed for Python, NumPy and the Keras backend")
    parser.add_argument("--dry-run", action="store_true", help=dry_run)
    parser.add_argument("--results-dir", default="results", metavar="DIR",
                        help="where each run writes its own new folder of results")


def parse(parser, argv=None, check=None, results_folder=None):
    """Parse and check the arguments once a run, before Keras loads; one line, exit 2, on
    anything wrong. `check(args)`: the script's own problem or None; `results_folder`: the folder
    the run makes under --results-dir (default: the script's name). Ctrl-C: one line from here."""
    if argv is None:
        if parser.prog in _FROM_THE_COMMAND_LINE:
            return _FROM_THE_COMMAND_LINE[parser.prog]
        lifecycle.stop_cleanly_while_starting()
    args = parser.parse_args(argv)
    try:
        os.getcwd()
    except FileNotFoundError:  # relative paths, the results folder among them, mean nothing
        parser.error("the folder this terminal is in was deleted; cd into one that exists")
    if setup_problem := keras_setup.problem():
        parser.error(setup_problem)
    backend = keras_setup.configured_backend()
    if getattr(args, "dry_run", False) and hasattr(args, "epochs"):
        args.epochs = 1
    folder = results_folder or os.path.splitext(os.path.basename(parser.prog))[0]
    if "results_dir" in args and (problem := results_dir_problem(args.results_dir, folder)):
        parser.error(f"argument --results-dir: {problem}")
    script_check = [lambda args, backend: check(args)] if check else []
    for hook in script_check + getattr(parser, "hooks", []):  # the script's own check first
        problem = hook(args, backend)
        if problem:
            parser.error(problem)
    if argv is None:
        _FROM_THE_COMMAND_LINE[parser.prog] = args
    return args


def after_parse(parser, hook):
    """parse() calls hook(args, backend) last: it completes args, returns a problem or None."""
    parser.__dict__.setdefault("hooks", []).append(hook)

