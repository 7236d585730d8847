"""redraw_figures.py remakes a committed run's figures from its record alone."""
import glob
import os
import shutil

import redraw_figures
from conftest import ROOT, run_script

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_table_runs_figures_come_back_from_its_record(tmp_path, capsys):
    [record] = glob.glob(os.path.join(ROOT, "results", "tables", "cnn-01-seed1", "*", "*",
                                      "record.json"))
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy(record, folder / "record.json")
    redraw_figures.main([str(folder)])
    assert capsys.readouterr().out.splitlines()[-1] == f"{folder}: confusion.png, curves.png"
    for name in ("curves.png", "confusion.png"):
        assert (folder / name).read_bytes()[:8] == PNG
    assert not (folder / "misclassified.png").exists()  # that one needs the model


def test_a_folder_without_a_record_is_one_line(tmp_path):
    completed = run_script("redraw_figures.py", str(tmp_path))
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"redraw_figures.py: error: argument RUN: no record.json in {str(tmp_path)!r}: name a "
        f"run's folder"]
