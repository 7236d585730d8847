"""The runner's operating-system calls on every desktop platform: the POSIX ways run here, the
Windows ways with the platform check patched and the Windows calls stood in for."""
import ast
import glob
import os
import signal
import subprocess
import sys
import types

import pytest

from companion import files
from conftest import ROOT
from tables import processes


def test_process_exists_here():
    assert files.process_exists(os.getpid())
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert not files.process_exists(ended.pid)


class FakeKernel32:
    """OpenProcess and GetExitCodeProcess as Windows answers them for one process."""

    def __init__(self, handle, exit_code):
        self.handle, self.exit_code, self.closed = handle, exit_code, False

    def OpenProcess(self, access, inherit, pid):  # noqa: N802 (Windows' names)
        assert access == files.PROCESS_QUERY_LIMITED_INFORMATION
        return self.handle

    def GetExitCodeProcess(self, handle, code):  # noqa: N802
        code._obj.value = self.exit_code
        return 1

    def CloseHandle(self, handle):  # noqa: N802
        self.closed = True


@pytest.mark.parametrize("handle, exit_code, last_error, exists", [
    (7, files.STILL_ACTIVE, 0, True),     # running
    (7, 0, 0, False),                         # ended, its handle still open somewhere
    (0, None, 87, False),                     # no such process (ERROR_INVALID_PARAMETER)
    (0, None, files.ERROR_ACCESS_DENIED, True),  # someone else's
])
def test_process_exists_on_windows(monkeypatch, handle, exit_code, last_error, exists):
    kernel32 = FakeKernel32(handle, exit_code)
    monkeypatch.setattr(files, "WINDOWS", True)
    monkeypatch.setattr(files.ctypes, "WinDLL", lambda name, use_last_error: kernel32,
                        raising=False)
    monkeypatch.setattr(files.ctypes, "get_last_error", lambda: last_error, raising=False)
    assert files.process_exists(1234) is exists
    assert kernel32.closed == bool(handle)


def test_the_lock_is_exclusive_here(tmp_path):
    first = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT)
    second = os.open(tmp_path / "lock", os.O_RDWR)
    processes.lock_exclusively(first)
    with pytest.raises(processes.LockHeld):
        processes.lock_exclusively(second)
    os.close(first)
    processes.lock_exclusively(second)  # released with its descriptor
    os.close(second)


def test_the_lock_on_windows(monkeypatch, tmp_path):
    held = set()

    def locking(descriptor, mode, size):
        assert (mode, size) == ("LK_NBLCK", 1) and os.lseek(descriptor, 0, os.SEEK_CUR) == 0
        if held:
            raise OSError(36, "Resource deadlock avoided")
        held.add(descriptor)

    monkeypatch.setattr(processes, "WINDOWS", True)
    monkeypatch.setitem(sys.modules, "msvcrt", types.SimpleNamespace(LK_NBLCK="LK_NBLCK",
                                                                     locking=locking))
    descriptor = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT)
    processes.lock_exclusively(descriptor)
    with pytest.raises(processes.LockHeld):
        processes.lock_exclusively(descriptor)
    os.close(descriptor)


class FakeChild:
    def __init__(self):
        self.calls = []

    def send_signal(self, number):
        self.calls.append(("signal", number))

    def terminate(self):
        self.calls.append(("terminate",))


def test_children_are_started_and_stopped_the_platform_way(monkeypatch):
    options = processes.child_options(5)
    assert options["pass_fds"] == (5,) and options["preexec_fn"] is processes.prepare_child
    child = FakeChild()
    processes.ask_to_stop(child)
    assert child.calls == [("signal", signal.SIGINT)]
    monkeypatch.setattr(processes, "WINDOWS", True)
    assert processes.child_options(5) == {}  # Windows has no preexec_fn and no pass_fds
    processes.ask_to_stop(child)
    assert child.calls[-1] == ("terminate",)


def test_no_posix_only_module_at_module_level():
    paths = glob.glob(os.path.join(ROOT, "*.py")) + glob.glob(os.path.join(ROOT, "*", "*.py"))
    found = []
    for path in paths:
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in tree.body:  # module level only: inside a function a platform check guards it
            names = [alias.name for alias in getattr(node, "names", [])]
            if isinstance(node, ast.ImportFrom):
                names = [node.module]
            found += [(os.path.basename(path), name) for name in names
                      if name in ("fcntl", "resource", "termios", "msvcrt")]
    assert found == []
