import json
import os
import signal
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(script, *args, env=None):
    """Run a script as a reader would, from the repository root; return the CompletedProcess."""
    return subprocess.run([sys.executable, script, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env=env)


def start_script(script, *args, ready_at=None, sigint=signal.SIG_DFL):
    """Start a script as a reader would from a terminal, with Ctrl-C's default action even where
    this suite was launched with SIGINT ignored (nohup, `cmd &`, CI): tests that interrupt it
    then give the same result however they are run (`sigint`: SIG_IGN starts it as `cmd &`
    does). With `ready_at` (a point of tests/programs/ready_at.py), return once the script
    says it has reached that point of its start-up."""
    program = [os.path.join(ROOT, "tests", "programs", "ready_at.py"), ready_at] if ready_at else []
    process = subprocess.Popen([sys.executable, *program, script, *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, sigint))
    if ready_at:
        assert process.stdout.readline() == "ready\n", process.communicate(timeout=60)
    return process


def only_run_folder(results_dir, script_stem):
    """The one run folder a script wrote under results_dir/<script_stem>/."""
    parent = os.path.join(results_dir, script_stem)
    entries = os.listdir(parent)
    assert len(entries) == 1, entries
    return os.path.join(parent, entries[0])


def read_record(run_folder):
    with open(os.path.join(run_folder, "record.json")) as f:
        return json.load(f)


@pytest.fixture
def results_dir(tmp_path):
    return str(tmp_path / "results")


def rewritten_model(tmp_path, change):
    """The committed CNN's model.keras with its members changed by `change(dict)`."""
    import zipfile

    import predict_digit

    with zipfile.ZipFile(predict_digit.default_model("cnn")) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(path)
