"""Where a run may write, checked before any work, and files that a stop (Ctrl-C, kill) never
leaves half-written: reports, figures, benchmarks."""
import contextlib
import ctypes
import os
import sys
import tempfile
import time

from companion.errors import shortened

try:
    import fcntl
except ImportError:  # Windows: the process id decides, on the one machine
    fcntl = None

WINDOWS = sys.platform == "win32"
STILL_ACTIVE = 259  # GetExitCodeProcess's code for a process that has not ended
ERROR_ACCESS_DENIED = 5
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
WRITING = ".writing-"  # a file being written: .writing-<pid>-<random><suffix>
FRESH = 10  # seconds a file may be unlocked before its writer locks it


def process_exists(pid):
    """Whether a process with this id exists (os.kill(pid, 0) on POSIX; on Windows, where
    os.kill(pid, 0) would send a Ctrl-C event, OpenProcess and GetExitCodeProcess)."""
    if WINDOWS:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return ctypes.get_last_error() == ERROR_ACCESS_DENIED  # exists, someone else's
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def hold(path):
    """A descriptor holding an OS lock (flock) on `path`, made if missing, while it is open: no
    run, in another container or on another machine, takes the file for a dead run's."""
    if fcntl is None:
        return None
    descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


def held(path):
    """Whether a living process holds `path`'s lock; None: no file, no flock, or too new."""
    if fcntl is None:
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return None if time.time() - os.fstat(descriptor).st_mtime < FRESH else False
    except OSError:
        return True
    finally:
        os.close(descriptor)


def abandoned(folder, pid_of, lock_of=lambda path: path):
    """The entries of `folder` that a run killed outright left behind: those whose lock file
    (`lock_of(path)`) no living process holds; where no lock tells, those whose name holds, by
    `pid_of(name)`, the id of a process gone, or this process's own (as a container reuses)."""
    for name in os.listdir(folder):
        pid = pid_of(name)
        if not (pid and pid.isdigit()):
            continue
        path = os.path.join(folder, name)
        alive = held(lock_of(path))
        if alive is None:
            alive = int(pid) != os.getpid() and process_exists(int(pid))
        if not alive:
            yield path


def remove_abandoned_writes(folder):
    """Remove the files that a writer killed outright left half-written in `folder`."""
    for path in abandoned(folder, lambda name: name.startswith(WRITING) and
                          name[len(WRITING):].split("-", 1)[0]):
        with contextlib.suppress(OSError):
            os.remove(path)


@contextlib.contextmanager
def replacing(path, mode, suffix):
    """A temporary file beside `path` that replaces it when the block ends, removed if the block
    is stopped (Ctrl-C, kill): the old file or the new one, never half of one, no stray file."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    remove_abandoned_writes(folder)
    # a hidden name that .gitignore names: a commit made during a write never takes it
    f = tempfile.NamedTemporaryFile(mode, dir=folder, delete=False,
                                    encoding=None if "b" in mode else "utf-8",
                                    prefix=f"{WRITING}{os.getpid()}-", suffix=suffix)
    lock = hold(f.name)  # until the file is in place
    try:
        with f:
            yield f
        os.chmod(f.name, 0o644)
        os.replace(f.name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(f.name)
        raise
    finally:
        if lock is not None:
            os.close(lock)


def write_atomically(path, text):
    """Write `text` to `path` so that a stop leaves the old file or the new one."""
    with replacing(path, "w", ".tmp") as f:
        f.write(text)


def results_dir_problem(path, folder=None):
    """Why `path` (and `folder` inside it) cannot take results, or None. Creates nothing."""
    if not path.strip():
        return "expected a folder, got ''"
    if max(len(os.fsencode(part)) for part in path.split(os.sep)) > 255 \
            or len(os.path.abspath(path)) > 3800:  # room left for the run's own names
        return f"{shortened(path)} is longer than the file system allows (255 bytes a name)"
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
    if inside and os.path.isdir(inside):  # the runs go in there: it must take them
        existing = os.path.abspath(inside)
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        target = os.path.abspath(path)
        where = "" if existing.startswith(target) else f", where {target!r} would be made"
        return f"cannot write to {existing!r}{where} ({error.strerror or error})"
    return None
