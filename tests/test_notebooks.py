"""The notebooks are their scripts' (python -m notebooks), and each runs in a kernel."""
import json
import os
import shutil

import nbformat
import pytest

from notebooks import __main__ as make

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_each_committed_notebook_is_what_its_script_gives_now():
    assert make.main(["--check"]) == 0


def test_a_script_changed_without_its_notebook_fails_the_check(tmp_path, monkeypatch, capsys):
    with open(os.path.join(make.ROOT, "mlp_mnist.py"), encoding="utf-8") as file:
        source = file.read()
    changed = source.replace("# convert to one-hot vector", "# one-hot vectors", 1)
    assert changed != source
    (tmp_path / "mlp_mnist.py").write_text(changed, encoding="utf-8")
    shutil.copytree(make.FOLDER, tmp_path / "notebooks")
    monkeypatch.setattr(make, "ROOT", str(tmp_path))
    monkeypatch.setattr(make, "FOLDER", str(tmp_path / "notebooks"))
    assert make.main(["--check", "mlp_mnist.py"]) == 1
    committed = nbformat.read(make.notebook_path("mlp_mnist.py"), as_version=4)
    changed_cell = next(i for i, cell in enumerate(committed.cells)
                        if "# convert to one-hot vector" in cell.source)
    assert (f"notebooks/mlp_mnist.ipynb: cells [{changed_cell}] differ from mlp_mnist.py's"
            in capsys.readouterr().err)
    assert make.main(["mlp_mnist.py"]) == 0  # regenerated, it holds again
    assert make.main(["--check", "mlp_mnist.py"]) == 0


def test_regenerating_an_unchanged_notebook_keeps_its_outputs(tmp_path, monkeypatch):
    shutil.copy(os.path.join(make.ROOT, "mnist_samples.py"), tmp_path)
    shutil.copytree(make.FOLDER, tmp_path / "notebooks")
    monkeypatch.setattr(make, "ROOT", str(tmp_path))
    monkeypatch.setattr(make, "FOLDER", str(tmp_path / "notebooks"))
    before = (tmp_path / "notebooks" / "mnist_samples.ipynb").read_bytes()
    assert b'"image/png"' in before  # the committed run's figure
    assert make.main(["mnist_samples.py"]) == 0
    assert (tmp_path / "notebooks" / "mnist_samples.ipynb").read_bytes() == before


def test_a_notebook_keeps_the_scripts_steps_in_order_without_run_or_argparse():
    notebook = nbformat.read(make.notebook_path("cnn_mnist.py"), as_version=4)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    steps = [next(i for i, text in enumerate(code) if f"def {name}(" in text)
             for name in ("load_data", "preprocess", "build_model", "train_and_test")]
    assert steps == sorted(steps) and len(set(steps)) == 4
    assert not any("%run" in text or "argparse" in text for text in code)
    parameters = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameters) == 1 and "    filters=64," in parameters[0].source


@pytest.mark.parametrize("script", make.SCRIPTS)
def test_each_notebook_runs_at_dry_run_size_and_shows_a_figure(script, tmp_path):
    notebook = nbformat.read(make.notebook_path(script), as_version=4)
    make.execute(notebook, f"flags.update(dry_run=True, results_dir={str(tmp_path)!r})",
                 timeout=300)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    assert any("image/png" in output.get("data", {}) for output in outputs)
    runs = sorted(tmp_path.glob(f"{script[:-3]}/*/record.json"))
    assert runs, f"no run of {script} under {tmp_path}"
    record = json.loads(runs[0].read_text())
    assert record["dry_run"] is True
    assert record["command"] == f"python {script} --dry-run --results-dir {tmp_path}"
