"""What the table runner asks of the operating system, on Linux, macOS and Windows alike: an
exclusive lock on a file, and how a row's script is started and
stopped. Each has its POSIX way and its Windows way here, so no script imports a POSIX-only
module. Linux and macOS are tested in CI's way (this suite); Windows by design, its branches
tested here with the platform checks patched (tests/test_processes.py).

Where Windows differs, by its design:
- the lock is the runner's alone: a row's script does not inherit it, as it does on POSIX;
- a row is stopped at once (TerminateProcess): the script cannot clean up, and the next run
  removes its hidden staging folder (records.remove_abandoned_staging);
- a row whose runner is killed outright runs on to its end, as on macOS; on Linux it gets
  SIGINT when its runner dies (prctl PR_SET_PDEATHSIG) and stops, keeping nothing.
"""
import ctypes
import os
import signal
import sys

WINDOWS = sys.platform == "win32"


class LockHeld(Exception):
    """Another process holds the lock."""


def lock_exclusively(descriptor):
    """Take an exclusive lock on the open file without waiting; LockHeld if another has it."""
    if WINDOWS:
        import msvcrt

        os.lseek(descriptor, 0, os.SEEK_SET)
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise LockHeld() from None
    else:
        import fcntl

        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld() from None


def child_options(lock):
    """subprocess.Popen's keyword arguments for a row's script: on POSIX it inherits the lock and
    starts with SIGINT's default action (see prepare_child); Windows has neither."""
    if WINDOWS:
        return {}
    return {"preexec_fn": prepare_child, "pass_fds": (lock,)}


def prepare_child():
    """In a child about to start (POSIX): SIGINT's default action, whatever the runner
    inherited, so that stop()'s SIGINT lets the script clean up instead of waiting to be
    killed; and on Linux, that same SIGINT when the runner dies without a word (kill -9), so no
    row runs on as an orphan."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def ask_to_stop(child):
    """Stop a row's script as Ctrl-C would (POSIX: it removes its unfinished files), or at once
    on Windows."""
    if WINDOWS:
        child.terminate()
    else:
        child.send_signal(signal.SIGINT)
