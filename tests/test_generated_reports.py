"""Every page generated from records still matches the committed records it was made from:
regenerated here (figures aside), it must come out identical to the file in results/."""
import glob
import importlib.util
import json
import os
import shutil
import subprocess

import matplotlib.pyplot as plt
import pytest

import protocol_experiment  # results/investigations/protocols/ is on pytest's pythonpath
from conftest import ROOT
from tables import book_tables, protocol_evidence, results_index, tables_report

RESULTS = os.path.join(ROOT, "results")


@pytest.fixture
def written(monkeypatch):
    """What the generators would write, by path, instead of writing it."""
    pages = {}

    def capture(path, text):
        pages[os.path.normpath(path)] = text

    monkeypatch.setattr(tables_report, "write_atomically", capture)
    monkeypatch.setattr(results_index, "write_atomically", capture)
    monkeypatch.setattr(tables_report, "save", lambda figure, path: plt.close(figure))
    monkeypatch.setattr(protocol_experiment, "write_atomically", capture)
    monkeypatch.setattr(protocol_experiment, "save", lambda figure, path: plt.close(figure))
    return pages


@pytest.fixture
def committed_records_only(monkeypatch):
    """The pages are judged against the records git tracks, not a reader's own runs beside them
    (python3 mlp_mnist.py writes one under results/). Outside a git checkout: every record."""
    listed = subprocess.run(["git", "ls-files", "results"], cwd=ROOT, capture_output=True,
                            text=True)
    if listed.returncode != 0:
        return
    tracked = {os.path.normpath(os.path.join(ROOT, line)) for line in listed.stdout.splitlines()}
    real_glob = glob.glob
    monkeypatch.setattr(results_index.glob, "glob", lambda pattern: [
        path for path in real_glob(pattern) if os.path.normpath(os.path.abspath(path)) in tracked])


def committed(path):
    with open(path) as f:
        return f.read()


def test_tables_report_matches_the_records(written):
    rows = book_tables.read_book_rows()
    tables_report.write_tables_report(
        rows, RESULTS, quick=False,
        evidence=lambda row: protocol_evidence.evidence(row, rows, RESULTS))
    path = os.path.join(RESULTS, "TABLES.md")
    assert written[path] == committed(path), "run: python reproduce.py --report"


def test_protocol_experiment_write_up_matches_the_records(written):
    protocol_experiment.write_experiment_report(book_tables.read_book_rows(), RESULTS)
    path = os.path.join(RESULTS, "investigations", "protocols", "README.md")
    assert written[path] == committed(path), "run: python reproduce.py --report"


def test_results_index_matches_the_records(written, committed_records_only):
    results_index.write_results_index(RESULTS)
    path = os.path.join(RESULTS, "README.md")
    assert written[path] == committed(path), "run: python -m tables.results_index"


def test_text_report_matches_the_records(written, committed_records_only):
    results_index.write_text_report(RESULTS)
    path = os.path.join(RESULTS, "TEXT.md")
    assert written[path] == committed(path), "run: python -m tables.results_index"


def test_a_readers_own_run_leaves_the_committed_index_as_it_is(written, committed_records_only):
    own = os.path.join(RESULTS, "mlp_mnist", "29991231-235959")  # as `python3 mlp_mnist.py`
    os.makedirs(own)
    try:
        with open(os.path.join(own, "record.json"), "w") as f:
            json.dump({"command": "python mlp_mnist.py", "test_accuracy": 0.9835, "epochs": [
                {"seconds": 1.0}], "keras_backend": "tensorflow", "versions": {}}, f)
        results_index.write_results_index(RESULTS)
    finally:
        shutil.rmtree(own)
    path = os.path.join(RESULTS, "README.md")
    assert "29991231-235959" not in written[path]
    assert written[path] == committed(path)


def investigation_summary(name):
    """An investigation's summary.py (it writes its README's table from its records)."""
    path = os.path.join(RESULTS, "investigations", name, "summary.py")
    spec = importlib.util.spec_from_file_location(f"{name}_summary", path)
    summary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(summary)
    return summary, path


def test_xla_investigation_table_matches_its_records():
    summary, path = investigation_summary("xla-cpu")
    page = summary.page()
    assert "| tensorflow-xla-256-512-256 | tensorflow | 2 |" in page
    # the README's words say the rerun trains to the same numbers: the records must agree
    assert "mlp-09-seed2: test accuracy and final training loss the same to the last digit." \
        in page.splitlines()
    assert page == committed(summary.README), f"run: python3 {path}"


def test_mlp_speed_defaults_table_matches_its_records():
    summary, path = investigation_summary("mlp-speed-defaults")
    page = summary.page()
    assert "| before: auto, 1 | 98.16% | 98.23% | 98.27% | 98.22 ± 0.06 |" in page
    assert page == committed(summary.README), f"run: python3 {path}"


def test_chosen_protocol_is_the_one_the_rule_picks_from_the_records():
    choice = protocol_experiment.choose_protocols(
        protocol_experiment.scores(book_tables.read_book_rows(), RESULTS))
    # the chosen protocol trains each table under the rule's choice for it
    assert {table: book_tables.table_protocol(book_tables.CHOSEN, table)
            for table in choice} == choice


def test_no_committed_record_or_notebook_names_a_folder_of_the_machine_that_made_it():
    tracked = subprocess.run(["git", "ls-files", "results", "notebooks"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout.split()
    named = []
    for path in tracked:
        if path.endswith((".json", ".ipynb", ".md", ".log")):
            with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                text = f.read()
            named += [(path, folder) for folder in ("/root/", "/home/", "/Users/", "/work/",
                                                    "/tmp/", "C:\\\\Users") if folder in text]
    assert named == []
