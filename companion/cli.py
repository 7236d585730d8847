"""Command line shared by the scripts: flags with the book's defaults, checked before any work.

Every bad value ends the script with exit status 2 and one line, `script.py: error: ...`,
before any data is loaded or any file is written.
"""
import argparse
import contextlib
import errno
import math
import os
import signal
import sys
import tempfile

import keras

from companion import distribute
from companion.errors import UserError

OPTIMIZERS = ("sgd", "adam", "rmsprop")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block), as the project promises."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _integer(text):
    try:
        return int(text)
    except ValueError:
        return None


def number(read, accept, expected):
    """An argparse type: `read` the text (an int, or None when it is none; or a float), then
    refuse what `accept` does not, with '<expected>, got <text>'."""
    def parse(text):
        value = read(text)
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
        return value
    return parse


positive_int = number(_integer, lambda v: v >= 1, "expected a positive integer")
non_negative_int = number(_integer, lambda v: v >= 0, "expected an integer >= 0")
# NumPy's and the backends' seeds are 32-bit: a larger one would fail only after start-up
seed = number(_integer, lambda v: 0 <= v < 2**32, "expected a seed from 0 to 4294967295")
dropout_rate = number(_float, lambda v: 0 <= v < 1, "dropout rate must be in [0, 1)")
non_negative_float = number(_float, lambda v: v >= 0, "expected a number >= 0")
positive_float = number(_float, lambda v: v > 0, "expected a number > 0")


def seed_list(text):
    """'1,2,3' -> [1, 2, 3]."""
    try:
        return [seed(part) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected seeds from 0 to 4294967295 like 1,2,3, got "
                                         f"{text!r}") from None


def layer_widths(text):
    """'256-256-256' (the tables' spelling) or '256,256,256' -> [256, 256, 256]."""
    parts = text.replace(",", "-").split("-")
    if not all(part.strip().isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(
            f"malformed layer list {text!r}: expected positive widths such as 256-256-256"
        )
    return [int(part) for part in parts]


def optimizer_name(text):
    name = text.lower()
    if name not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {text!r} (choose from {', '.join(OPTIMIZERS)})"
        )
    return name


JIT_COMPILE = {"auto": "auto", "yes": True, "no": False}


def on_accelerator(backend):
    """Whether the backend computes on a GPU or TPU by default (asked without starting it)."""
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    return False  # TensorFlow and PyTorch keep the CPU defaults here (not measured on GPUs)


def speed_defaults(listing, backend, accelerator=None):
    """compile()'s speed settings for a listing ('mlp', 'cnn', 'rnn') on a backend, decided
    here alone. They change how fast, not what is computed (docs/speed.md):

    - steps per call into the backend: 16 on a CPU, where TensorFlow runs them as one compiled
      loop (the MLP's CPU epoch 1.9x shorter) and JAX as one compiled scan
      (companion/fused.py); a whole epoch per call on a JAX accelerator, where launching the
      469 small steps one by one is what an epoch costs; 1 on PyTorch, the only value its
      trainer accepts;
    - XLA for the MLP on TensorFlow; elsewhere Keras decides ('auto': on a GPU, yes).
    """
    if accelerator is None:
        accelerator = on_accelerator(backend)
    steps = 1 if backend == "torch" else EPOCH if (backend == "jax" and accelerator) else 16
    return {"jit_compile": "yes" if (listing, backend) == ("mlp", "tensorflow") else "auto",
            "steps_per_execution": steps}


EPOCH = "epoch"  # --steps-per-execution epoch: every step of an epoch in one call


def steps_per_execution(text):
    """A positive integer, or 'epoch'."""
    return EPOCH if text == EPOCH else number(
        _integer, lambda v: v >= 1, "expected a positive integer or 'epoch'")(text)


def training_parser(doc, *, listing, epochs, batch_size, optimizer, dropout):
    """The flags every training script shares, with that script's book defaults and the speed
    settings speed_defaults() gives it on the backend in use (what --help shows applies)."""
    speed = speed_defaults(listing, keras.backend.backend())
    jit_compile, steps = speed["jit_compile"], speed["steps_per_execution"]
    parser = new_parser(doc)
    parser.add_argument("--epochs", type=positive_int, default=epochs, metavar="N",
                        help="passes over the training set")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, metavar="N",
                        help="samples per gradient update (the book's batch_size)")
    parser.add_argument("--optimizer", type=optimizer_name, default=optimizer,
                        metavar="{" + ",".join(OPTIMIZERS) + "}",
                        help="with Keras' default settings (SGD: learning rate 0.01, no momentum; "
                             "Adam and RMSprop: 0.001)")
    parser.add_argument("--dropout", type=dropout_rate, default=dropout, metavar="RATE",
                        help="dropout rate in [0, 1); 0 leaves the Dropout layers out")
    parser.add_argument("--jit-compile", choices=list(JIT_COMPILE), default=jit_compile,
                        help="compile each training step with XLA; auto: Keras decides (on a "
                             "GPU, yes), as compile()'s jit_compile")
    parser.add_argument("--steps-per-execution", type=steps_per_execution,
                        default=steps, metavar="N|epoch",
                        help="training steps run per call into the backend, as compile()'s "
                             "steps_per_execution; 'epoch': all of an epoch's")
    add_distribute_arguments(parser)
    add_common_arguments(parser)
    return parser




def add_distribute_arguments(parser):
    """--distribute and --cpu-devices (companion/distribute.py does the work)."""
    parser.add_argument("--distribute", choices=distribute.ENGINES["tensorflow"], default="none",
                        help="none: one device (a GPU if present); mirrored: every local GPU; "
                             "tpu: the TPU's cores; multi-worker: the machines in TF_CONFIG. "
                             "--batch-size stays the global batch")
    parser.add_argument("--cpu-devices", type=positive_int, default=1, metavar="N",
                        help="split the CPU into N logical devices for --distribute mirrored on "
                             "a machine without GPUs (TensorFlow backend)")


def backend_problem(args, backend):
    """Why --distribute/--cpu-devices cannot work as given, or None."""
    if args.cpu_devices > 1 and args.distribute != "mirrored":
        return "argument --cpu-devices: only --distribute mirrored uses several CPU devices"
    if args.cpu_devices > 1 and backend != "tensorflow":
        return (f"argument --cpu-devices: splitting the CPU needs the tensorflow backend "
                f"(KERAS_BACKEND is {backend})")
    if backend == "torch" and getattr(args, "steps_per_execution", 1) != 1:
        return (f"argument --steps-per-execution: Keras' PyTorch backend runs one step per call, "
                f"got {args.steps_per_execution}")
    supported = distribute.ENGINES.get(backend, ("none",))
    if args.distribute not in supported:
        return (f"argument --distribute: {args.distribute} is not available on the {backend} "
                f"backend (choose from {', '.join(supported)}, or KERAS_BACKEND=tensorflow)")
    return None


def speed_settings(args, train_samples):
    """compile()'s keyword arguments for the speed flags ('epoch' made a number of steps)."""
    steps = args.steps_per_execution
    if steps == EPOCH:
        steps = math.ceil(train_samples / args.batch_size)
    return {"jit_compile": JIT_COMPILE[args.jit_compile], "steps_per_execution": steps}


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except for on/off switches and flags without one."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def new_parser(doc):
    """A parser whose --help starts with the script docstring's first line."""
    return OneLineParser(description=doc.strip().splitlines()[0],
                         formatter_class=DefaultsHelpFormatter)


def add_common_arguments(parser):
    """--seed, --dry-run and --results-dir: on every script, training or not."""
    parser.add_argument("--seed", type=seed, default=1, metavar="N",
                        help="seed for Python, NumPy and the Keras backend")
    parser.add_argument("--dry-run", action="store_true",
                        help="smoke test: a small slice of MNIST and one epoch")
    parser.add_argument("--results-dir", default="results", metavar="DIR",
                        help="where each run writes its own new folder of results")


def parse(parser, argv=None, check=None, results_folder=None):
    """Parse and check the arguments; exit 2 with one line on anything wrong. `check(args)`
    returns the script's own problem or None; `results_folder` is the folder the run will make
    under --results-dir (default: the script's name), checked now rather than after training."""
    args = parser.parse_args(argv)
    if getattr(args, "dry_run", False) and hasattr(args, "epochs"):
        args.epochs = 1
    folder = results_folder or os.path.splitext(os.path.basename(parser.prog))[0]
    problem = results_dir_problem(args.results_dir, folder)
    if problem:
        parser.error(f"argument --results-dir: {problem}")
    problem = check(args) if check else None
    if problem:
        parser.error(problem)
    if hasattr(args, "distribute"):
        problem = backend_problem(args, keras.backend.backend())
        if problem:
            parser.error(problem)
    return args


def results_dir_problem(path, folder=None):
    """Why `path` (and `folder` inside it) cannot take results, or None. Creates nothing."""
    if not path.strip():
        return "expected a folder, got ''"
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        if os.path.islink(existing):
            return (f"{existing!r} is a broken symbolic link (to {os.readlink(existing)!r}); "
                    f"remove it or make its target")
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"{existing!r} is not a directory"
    inside = os.path.join(path, folder) if folder else None
    if inside and os.path.lexists(inside) and not os.path.isdir(inside):
        return f"{inside!r} is a file, where this script's runs go in a folder of that name"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        target = os.path.abspath(path)
        where = "" if target == existing else f", where {target!r} would be made"
        return f"cannot write to {existing!r}{where} ({error.strerror or error})"
    return None


class OutputThatOutlivesItsReader:
    """sys.stdout that goes on when its reader has gone (`python mlp_mnist.py | head -1`):
    the rest of the output is dropped, and the run still finishes and writes its results."""

    def __init__(self, stream):
        self._stream = stream

    def _reader_gone(self):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # also quiets the interpreter's final flush
        os.close(devnull)

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_gone()
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class Stopped(KeyboardInterrupt):
    """`kill` (SIGTERM): the run stops as Ctrl-C stops it, removing what it had begun to write."""


class _StopRequest:
    """Ctrl-C and `kill` while the backend trains or evaluates wait for the end of the step.

    Python raises a signal's exception at whatever line is running, and inside the backend's
    tracing or conversion code it can be turned into another error (a TypeError "Failed to
    convert elements") or leave the backend's threads to abort the process (SIGABRT). So from
    the start to the end of fit(), evaluate() and predict() (callbacks.ProgressBar or
    backend_call() marks them) the request is kept and raised at the next step's end or when
    the call returns; elsewhere it is raised at once.
    """
    backend_calls = 0
    pending = None

    @classmethod
    def receive(cls, signum, frame):
        stop = Stopped if signum == signal.SIGTERM else KeyboardInterrupt
        if cls.backend_calls:
            cls.pending = cls.pending or stop
        else:
            raise stop()

    @classmethod
    def raise_pending(cls):
        stop, cls.pending = cls.pending, None
        if stop is not None:
            cls.backend_calls = 0  # the exception leaves every fit() and evaluate() at once
            raise stop()


def backend_call_begins():
    _StopRequest.backend_calls += 1


def step_ends():
    """Where a Ctrl-C or `kill` received during the step stops the run."""
    _StopRequest.raise_pending()


def backend_call_ends():
    _StopRequest.backend_calls = max(0, _StopRequest.backend_calls - 1)
    _StopRequest.raise_pending()


@contextlib.contextmanager
def backend_call():
    """A backend call that no ProgressBar watches (predict with verbose=0): a Ctrl-C or `kill`
    received during it stops the run when it returns."""
    backend_call_begins()
    try:
        yield
    finally:
        backend_call_ends()


def out_of_memory(error):
    """Whether `error` is the backend's or NumPy's way of saying the memory ran out."""
    names = {type(error).__name__} | {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"MemoryError", "ResourceExhaustedError", "OutOfMemoryError"}) or \
        "RESOURCE_EXHAUSTED" in str(error)[:2000]


def run_main(main, argv=None):
    """Run a script's main() so that every way it can end is one line, not a traceback:
    bad input (UserError, exit 2, as a bad flag), Ctrl-C or `kill` (130, 143; nothing
    half-written is kept), a full disk or an unwritable file (1), and memory running out (1).
    """
    prog = os.path.basename(sys.argv[0])
    launched_with = {stop: signal.getsignal(stop) for stop in (signal.SIGINT, signal.SIGTERM)}
    _StopRequest.backend_calls, _StopRequest.pending = 0, None  # none left by an earlier error
    signal.signal(signal.SIGTERM, _StopRequest.receive)
    if launched_with[signal.SIGINT] is signal.default_int_handler:  # not where it is ignored
        signal.signal(signal.SIGINT, _StopRequest.receive)
    if not isinstance(sys.stdout, OutputThatOutlivesItsReader):
        sys.stdout = OutputThatOutlivesItsReader(sys.stdout)
    try:
        main(argv)
    except UserError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        sys.exit(2)
    except Stopped:
        print(f"\n{prog}: stopped by kill (SIGTERM); this run wrote no results", file=sys.stderr)
        sys.exit(143)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted; this run wrote no results", file=sys.stderr)
        sys.exit(130)
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise
        print(f"{prog}: error: cannot write {error.filename or 'the results'} "
              f"({error.strerror}); nothing of this run was kept", file=sys.stderr)
        sys.exit(1)
    except Exception as error:
        if not out_of_memory(error):
            raise
        print(f"{prog}: error: out of memory ({type(error).__name__}); try a smaller model "
              f"(--hidden-units, --filters, --units) or --batch-size", file=sys.stderr)
        sys.exit(1)
    finally:
        for stop, handler in launched_with.items():
            signal.signal(stop, handler)
        _StopRequest.backend_calls, _StopRequest.pending = 0, None
