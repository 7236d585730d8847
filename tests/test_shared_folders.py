"""Runs sharing a results folder (issue 43): a run's staging folder and a half-written file
belong to whoever holds their OS lock, not to whoever carries their process id, so two runs in
two containers (both process 1) or on two machines never take each other's files for a dead
run's leftovers."""
import os
import subprocess
import sys

import pytest

from companion import files, records

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock: POSIX only")

HOLDER = ("import fcntl, os, sys, time\n"
          "descriptor = os.open(sys.argv[1], os.O_RDONLY)\n"
          "fcntl.flock(descriptor, fcntl.LOCK_EX)\n"
          "print('holding', flush=True)\n"
          "time.sleep(120)\n")


def held_by_another_process(path):
    """A process that holds `path`'s lock until it is killed, as a living run does."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_live_staging_folder_under_this_process_id_is_left_alone(tmp_path):
    """Another container's run, process 1 there as here: its staging folder carries our own id,
    but its lock is held, so it stays; once that run is gone, it is cleared."""
    staging = tmp_path / f".20260101-000000.partial-{os.getpid()}"
    staging.mkdir()
    (staging / "model.keras").write_bytes(b"being written")
    lock = tmp_path / f"{staging.name}.lock"
    lock.touch()
    holder = held_by_another_process(lock)
    try:
        records.remove_abandoned_staging(str(tmp_path))
        assert sorted(os.listdir(tmp_path)) == sorted([staging.name, lock.name])
    finally:
        holder.kill()
        holder.wait()
    records.remove_abandoned_staging(str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_a_staging_folder_whose_lock_nobody_holds_is_cleared_whatever_its_id(tmp_path):
    """A run killed outright on another machine: its process id means nothing here (1 is alive
    on every machine); its lock, old and held by nobody, says it is dead."""
    staging = tmp_path / ".20260101-000000.partial-1"
    staging.mkdir()
    lock = tmp_path / f"{staging.name}.lock"
    lock.touch()
    os.utime(lock, (0, 0))
    records.remove_abandoned_staging(str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_a_file_being_written_by_another_container_is_not_removed(tmp_path):
    """`reproduce.py --report` beside a row's figure being written, both process 1: the
    figure's half-written file is held, so the report's own write leaves it."""
    writing = tmp_path / f"{files.WRITING}{os.getpid()}-abc.png"
    writing.write_bytes(b"half a figure")
    holder = held_by_another_process(writing)
    try:
        files.write_atomically(str(tmp_path / "TABLES.md"), "whole")
        assert sorted(os.listdir(tmp_path)) == sorted(["TABLES.md", writing.name])
    finally:
        holder.kill()
        holder.wait()


def test_a_run_writes_and_leaves_no_lock_behind(tmp_path):
    import argparse

    args = argparse.Namespace(results_dir=str(tmp_path), seed=1, dry_run=True)
    run = records.Run("some_script.py", args)
    folder = run.write({}, texts={"notes.txt": "whole"})
    assert os.listdir(tmp_path / "some_script") == [os.path.basename(folder)]
    assert sorted(os.listdir(folder)) == ["notes.txt", "record.json"]


def test_a_staging_folder_removed_under_a_run_is_one_line(tmp_path, monkeypatch):
    """Another program deletes the run's staging folder while the run writes into it: one line
    saying nothing was kept, not a FileNotFoundError traceback."""
    import argparse
    import shutil

    args = argparse.Namespace(results_dir=str(tmp_path), seed=1, dry_run=True)
    run = records.Run("some_script.py", args)
    real_open = open

    def open_after_removal(path, *rest, **kwargs):
        if str(path).endswith("notes.txt"):
            shutil.rmtree(os.path.dirname(path))
        return real_open(path, *rest, **kwargs)

    monkeypatch.setattr("builtins.open", open_after_removal)
    with pytest.raises(records.UserError, match="was removed while this run was written into "
                                                "it; nothing of this run was kept"):
        run.write({}, texts={"notes.txt": "whole"})
    monkeypatch.undo()
    assert os.listdir(tmp_path / "some_script") == []
