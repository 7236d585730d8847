"""How a script ends: every way is one line and an exit status, never a traceback (run_main).
A reader that goes away (`python mlp_mnist.py | head -1`) does not stop the run."""
import contextlib
import errno
import math
import os
import signal
import sys

from companion.errors import UserError

# Ctrl-C's and the ending signals' handlers as the script was launched, and its stderr then
# (backend.py sends file descriptor 2 elsewhere while Keras imports)
SIGNALS_AT_LAUNCH = {}
STDERR_AT_LAUNCH = []
# what else ends a run as `kill` does: a closed terminal or ssh session (SIGHUP), Ctrl-\
ENDING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGQUIT")
               if hasattr(signal, name))


def stopped_by(signum):
    """The line's words and the exit status (128 + the signal's number, as a shell gives)."""
    if signum == signal.SIGINT:
        return "interrupted", 130
    name = signal.Signals(signum).name
    return f"stopped by {'kill (SIGTERM)' if name == 'SIGTERM' else name}", 128 + signum


def handled_at_launch(stop, handler):
    """Whether a signal gets this module's handler: SIGTERM always; Ctrl-C unless it was
    ignored at launch; SIGHUP and Ctrl-\\ unless ignored (nohup) or handled by the caller."""
    if stop == signal.SIGINT:
        return handler is signal.default_int_handler
    return stop == signal.SIGTERM or handler is signal.SIG_DFL


def _interrupted_while_starting(signum, frame):
    """Ctrl-C or `kill` while the script still imports: nothing is written yet, so it ends at
    once with the line and status run_main gives later, not a traceback."""
    what, status = stopped_by(signum)
    line = f"\n{os.path.basename(sys.argv[0])}: {what}; this run wrote no results\n"
    os.write(STDERR_AT_LAUNCH[0], line.encode())
    os._exit(status)


def open_closed_streams():
    """A stdout or stderr closed at launch (`>&-`, `2>&-`) becomes /dev/null: the run still
    writes its results, and no file it opens takes descriptor 1 or 2."""
    for descriptor, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(descriptor)
        except OSError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != descriptor:
                os.dup2(devnull, descriptor)
                os.close(devnull)
        if getattr(sys, name) is None:
            setattr(sys, name, open(descriptor, "w", closefd=False))
        with contextlib.suppress(AttributeError, ValueError):  # a terminal in the C locale
            getattr(sys, name).reconfigure(errors="backslashreplace")  # cannot show every name


def stop_cleanly_while_starting(even_if_ignored=False):
    """From the reading of the command line until run_main takes over: an interrupt ends the
    script in one line (a Ctrl-C ignored at launch stays ignored, unless `even_if_ignored`)."""
    if SIGNALS_AT_LAUNCH:
        return
    open_closed_streams()
    STDERR_AT_LAUNCH.append(os.dup(2))
    for stop in (signal.SIGINT, *ENDING):
        SIGNALS_AT_LAUNCH[stop] = signal.getsignal(stop)
        if handled_at_launch(stop, SIGNALS_AT_LAUNCH[stop]) or \
                (even_if_ignored and stop == signal.SIGINT):
            signal.signal(stop, _interrupted_while_starting)


class BrokenPipeSafeStdout:
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


KEPT = []  # the folder of results a run has written whole (records.Run.write)


class Stopped(KeyboardInterrupt):
    """`kill` (SIGTERM), SIGHUP, SIGQUIT: the run stops as Ctrl-C stops it, removing what it had
    begun to write."""

    def __init__(self, signum=signal.SIGTERM):
        super().__init__(signum)
        self.signum = signum


class _StopRequest:
    """Ctrl-C and `kill` during fit(), evaluate() or predict() wait for the step's end: raised
    inside the backend's tracing, a signal's exception turns into another error or aborts the
    process (SIGABRT). Elsewhere it is raised at once and kept too, since raised in a cleanup
    callback it is only printed ("Exception ignored"): the next step, the write and main()'s
    end raise it again."""
    backend_calls = 0
    pending = None

    @classmethod
    def receive(cls, signum, frame):
        cls.pending = cls.pending or signum
        if not cls.backend_calls:
            raise cls.exception(signum)

    @staticmethod
    def exception(signum):
        return KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum)

    @classmethod
    def raise_pending(cls):
        signum, cls.pending = cls.pending, None
        if signum is not None:
            cls.backend_calls = 0  # the exception leaves every fit() and evaluate() at once
            raise cls.exception(signum)


def backend_call_begins():
    _StopRequest.backend_calls += 1


def stop_if_asked():
    """Where a Ctrl-C or `kill` received and not yet raised (during a step, or lost in a
    cleanup callback) stops the run."""
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


def refuse_oversized(model, batch_size):
    """One line, not a kill or a crash with nothing said, for a training that would not fit in
    this computer's memory. An estimate: the weights six times (gradients, Adam's slots, copies),
    twice each layer's output per sample, a recurrent layer's gates at every step."""
    floats, shape = 6 * model.count_params(), model.inputs[0].shape  # shape: the layer's input
    for layer in model.layers:
        per_sample = math.prod(layer.output.shape[1:])
        if hasattr(layer, "cell") or hasattr(layer, "forward_layer"):  # SimpleRNN ... Bidirectional
            per_sample = shape[1] * sum(w.shape[-1] for w in layer.weights if len(w.shape) == 2)
        floats, shape = floats + 2 * batch_size * per_sample, layer.output.shape
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") \
        if "SC_PHYS_PAGES" in getattr(os, "sysconf_names", ()) else math.inf  # Windows: unknown
    if 4 * floats > 0.8 * memory:
        raise UserError(f"training this model in batches of {batch_size} takes about "
                        f"{4 * floats / 1e9:.0f} GB of memory, and this computer has "
                        f"{memory / 1e9:.0f} GB; try a smaller --batch-size or model")


def _quiet_for_kept_stops(unraisable, report=sys.unraisablehook):
    """A stop raised in a cleanup callback is kept (_StopRequest), not printed as a traceback."""
    if not issubclass(unraisable.exc_type, KeyboardInterrupt):
        report(unraisable)


def run_main(main, argv=None, kept_on_write_error="nothing of this run was kept"):
    """main(), every way it ends one line: bad input (exit 2), Ctrl-C or `kill` (130, 143;
    nothing half-written kept), a full disk or unwritable file (1, saying what was kept), memory
    running out (1)."""
    prog = os.path.basename(sys.argv[0])
    launched_with = {stop: SIGNALS_AT_LAUNCH.get(stop, signal.getsignal(stop))
                     for stop in (signal.SIGINT, *ENDING)}
    _StopRequest.backend_calls, _StopRequest.pending = 0, None  # none left by an earlier error
    KEPT.clear()
    sys.unraisablehook = _quiet_for_kept_stops
    for stop, handler in launched_with.items():
        if handled_at_launch(stop, handler):
            signal.signal(stop, _StopRequest.receive)
    open_closed_streams()
    if not isinstance(sys.stdout, BrokenPipeSafeStdout):
        sys.stdout = BrokenPipeSafeStdout(sys.stdout)
    try:
        main(argv)
        stop_if_asked()
    except UserError as error:
        message = " ".join(str(error).split())  # one line, whatever a quoted value holds
        if len(message) > 400:
            message = message[:380] + f"... ({len(message)} characters)"
        print(f"{prog}: error: {message}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as stop:  # Stopped too
        what, status = stopped_by(getattr(stop, "signum", signal.SIGINT))
        kept = f"its results were written ({KEPT[-1]})" if KEPT else "this run wrote no results"
        print(f"\n{prog}: {what}; {kept}", file=sys.stderr)
        sys.exit(status)
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES,
                               errno.EFBIG):
            raise
        print(f"{prog}: error: cannot write {error.filename or 'the results'} "
              f"({error.strerror}); {kept_on_write_error}", file=sys.stderr)
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
