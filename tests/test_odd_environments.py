"""Odd but ordinary environments a reader's machine can have (issue 43): each gives the run or
one line, never a traceback."""
import json
import os
import subprocess
import sys

from conftest import ROOT


def test_a_keras_json_asking_for_channels_first_still_builds_the_listings(tmp_path):
    """channels_first is a legitimate Keras setting, and the CNN listing is written for
    channels_last: the scripts use the listings' layout whatever keras.json says."""
    (tmp_path / "keras.json").write_text(json.dumps({
        "backend": "tensorflow", "image_data_format": "channels_first", "floatx": "float32",
        "epsilon": 1e-07}))
    program = ("from companion.backend import keras\n"
               "import cnn_mnist\n"
               "model = cnn_mnist.build_model((28, 28, 1), 10, 64, 3, 2, 0.2)\n"
               "print(keras.config.image_data_format(), model.output_shape)\n")
    completed = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True,
                               text=True, timeout=300,
                               env={**os.environ, "KERAS_HOME": str(tmp_path),
                                    "KERAS_BACKEND": "tensorflow"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.splitlines()[-1] == "channels_last (None, 10)"


def test_predict_digit_run_through_a_link_finds_the_committed_model(tmp_path):
    link = tmp_path / "predict.py"
    link.symlink_to(os.path.join(ROOT, "predict_digit.py"))
    completed = subprocess.run([sys.executable, str(link), os.path.join(ROOT, "docs",
                                "handwriting", "seven.jpg"), "--results-dir",
                                str(tmp_path / "results")], cwd=tmp_path, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "seven.jpg: 7 (" in completed.stdout


def test_a_matplotlib_backend_it_does_not_know_is_ignored(tmp_path):
    """The scripts draw into files: MPLBACKEND=nonsense used to stop matplotlib's import."""
    completed = subprocess.run([sys.executable, "mnist_samples.py", "--dry-run", "--results-dir",
                                str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                               timeout=300, env={**os.environ, "MPLBACKEND": "nonsense"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert len(list(tmp_path.glob("mnist_samples/*/mnist-samples.png"))) == 1


def test_a_python_without_the_packages_gets_one_line_before_any_import(tmp_path):
    """A new terminal where .venv was not activated: a Python without NumPy or Keras (here
    `python -S`, which leaves site-packages out) is told what to do, not a traceback."""
    for script in ("mlp_mnist.py", "predict_digit.py"):
        completed = subprocess.run([sys.executable, "-S", script, "--results-dir",
                                    str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                                   timeout=60)
        assert completed.returncode == 2, completed.stderr[-2000:]
        assert completed.stderr.startswith(f"{script}: error: this Python ({sys.executable}) "
                                           f"has no numpy and no keras: "), completed.stderr
        assert len(completed.stderr.splitlines()) == 1


def test_the_missing_packages_line_names_the_projects_venv_when_this_python_is_another(
        tmp_path, monkeypatch):
    from companion import keras_setup

    monkeypatch.setattr(keras_setup.importlib.util, "find_spec",
                        lambda name: None if name == "keras" else object())
    monkeypatch.setattr(keras_setup, "PROJECT", str(tmp_path))
    monkeypatch.setattr(keras_setup.sys, "prefix", str(tmp_path))
    assert keras_setup.problem().endswith("has no keras: install what the scripts need "
                                       "(python -m pip install -r requirements.txt)")
    (tmp_path / ".venv").mkdir()
    assert keras_setup.problem().endswith("has no keras: activate the project's .venv first "
                                       "(. .venv/bin/activate; on Windows "
                                       ".venv\\Scripts\\Activate.ps1)")
    monkeypatch.setattr(keras_setup.sys, "prefix", str(tmp_path / ".venv"))
    assert "install what the scripts need" in keras_setup.problem()


def test_a_keras_json_holding_no_settings_object_is_one_line(tmp_path):
    (tmp_path / "keras.json").write_text("[1, 2]")
    completed = subprocess.run([sys.executable, "mlp_mnist.py", "--dry-run", "--results-dir",
                                str(tmp_path / "results")], cwd=ROOT, capture_output=True,
                               text=True, timeout=60, env={**os.environ,
                                                           "KERAS_HOME": str(tmp_path)})
    assert completed.returncode == 2
    assert completed.stderr == (f"mlp_mnist.py: error: {tmp_path / 'keras.json'} holds no "
                                f"settings object, which stops Keras; fix it or delete it\n")
    assert not (tmp_path / "results").exists()


def test_a_deleted_working_folder_is_one_line(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    for script in ("mlp_mnist.py", "reproduce.py"):
        completed = subprocess.run([sys.executable, os.path.join(ROOT, script)], cwd=gone,
                                   preexec_fn=lambda: os.rmdir(gone), capture_output=True,
                                   text=True, timeout=60)
        assert completed.returncode == 2, completed.stderr[-2000:]
        assert completed.stderr == (f"{script}: error: the folder this terminal is in was "
                                    f"deleted; cd into one that exists\n")
        gone.mkdir()
