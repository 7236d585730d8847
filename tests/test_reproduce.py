"""reproduce.py: the book's rows as commands, resuming after an interrupt, failed rows, report."""
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import reproduce
from conftest import ROOT, run_script


CHAPTER = os.path.join(ROOT, "..", "shared", "book", "chapter1.md")  # beside the checkout


def book_rows_from_chapter():
    """The tables as chapter1.md prints them, parsed independently of the CSV."""
    rows = []
    text = open(CHAPTER).read()
    for heading, table in [("Table 1.3.2", "mlp"), ("Table 1.4.1", "cnn"), ("Table 1.5.1", "rnn")]:
        section = text[text.index(f"### {heading}"):].splitlines()
        start = next(i for i, line in enumerate(section) if line.startswith("|"))
        end = next(i for i in range(start, len(section) + 1)
                   if i == len(section) or not section[i].startswith("|"))
        for line in section[start + 2:end]:  # past the header and its separator
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows.append((table, cells[0], float(cells[-2]), float(cells[-1])))
    return rows


@pytest.mark.skipif(not os.path.exists(CHAPTER), reason="the team's shared/book is not beside "
                                                        "this checkout")
def test_book_table_data_matches_the_chapter():
    rows = reproduce.read_book_rows()
    assert [row["table"] for row in rows].count("mlp") == 18
    assert [row["table"] for row in rows].count("cnn") == 4
    assert [row["table"] for row in rows].count("rnn") == 4
    chapter = book_rows_from_chapter()
    assert [(r["table"], r["layers"], r["train"], r["test"]) for r in rows] == chapter


@pytest.mark.parametrize("row_id, script, flags", [
    ("mlp-01", "mlp_mnist.py", ["--optimizer", "sgd", "--dropout", "0",
                                "--hidden-units", "256-256-256", "--activation", "none"]),
    ("mlp-03", "mlp_mnist.py", ["--optimizer", "sgd", "--dropout", "0", "--l2", "0.01",
                                "--hidden-units", "256-256-256", "--activation", "relu"]),
    ("mlp-12", "mlp_mnist.py", ["--optimizer", "sgd", "--dropout", "0.45",
                                "--hidden-units", "512-1024-512", "--activation", "relu"]),
    ("mlp-17", "mlp_mnist.py", ["--optimizer", "rmsprop", "--dropout", "0.45",
                                "--hidden-units", "256-256-256", "--activation", "relu"]),
    ("cnn-04", "cnn_mnist.py", ["--optimizer", "adam", "--dropout", "0.4", "--filters", "64"]),
    ("rnn-04", "rnn_mnist.py", ["--optimizer", "sgd", "--dropout", "0.2", "--units", "512"]),
])
def test_row_becomes_the_scripts_command_line(row_id, script, flags):
    row = {row["id"]: row for row in reproduce.read_book_rows()}[row_id]
    assert reproduce.row_flags(row) == (script, flags)


def record_paths(runs_dir, row_id):
    return sorted(glob.glob(os.path.join(runs_dir, f"{row_id}-seed1", "*", "*", "record.json")))


def wait_for(predicate, timeout_s=300):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_interrupted_run_resumes_without_rerunning_finished_rows(tmp_path, stop_signal):
    results_dir = str(tmp_path)
    runs_dir = os.path.join(results_dir, "tables-quick")
    command = [sys.executable, "reproduce.py", "--quick", "--table", "mlp", "--rows", "1,2,3",
               "--results-dir", results_dir]
    runner = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert wait_for(lambda: record_paths(runs_dir, "mlp-01")), "row 1 never finished"
        # Row 2 starts right after row 1 and needs seconds to import Keras: it is mid-run now.
        runner.send_signal(stop_signal)
        stdout, stderr = runner.communicate(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 130, (runner.returncode, stdout[-2000:], stderr[-3000:])
    assert stderr.splitlines()[-1] == "reproduce.py: stopped; run the same command again to carry on"
    first_row = record_paths(runs_dir, "mlp-01")
    assert len(first_row) == 1
    assert record_paths(runs_dir, "mlp-02") == []  # cut off: nothing of it is kept
    assert glob.glob(os.path.join(runs_dir, "mlp-02-seed1", "*", ".*partial*")) == []

    completed = run_script("reproduce.py", "--quick", "--table", "mlp", "--rows", "1,2,3",
                           "--results-dir", results_dir)
    assert completed.returncode == 0, completed.stderr
    assert f"[1/3] mlp-01 seed 1: done before ({os.path.dirname(first_row[0])})" \
        in completed.stdout.splitlines()
    assert record_paths(runs_dir, "mlp-01") == first_row  # not rerun
    assert len(record_paths(runs_dir, "mlp-02")) == 1
    assert len(record_paths(runs_dir, "mlp-03")) == 1


@pytest.fixture(scope="module")
def diverging_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diverge")
    table = folder / "rows.csv"
    table.write_text("table,row,layers,regularizer,optimizer,relu,train,test\n"
                     "mlp,1,256-256-256,L2(1e30),SGD,Yes,90.0,90.0\n"
                     "cnn,1,64-64-64,Dropout(0.2),Adam,Yes,99.75,99.40\n")
    results_dir = str(folder / "results")
    completed = run_script("reproduce.py", "--quick", "--book-table", str(table),
                           "--results-dir", results_dir)
    return completed, results_dir, str(table)


def test_diverging_row_is_recorded_as_failed_and_the_run_goes_on(diverging_run):
    completed, results_dir, _ = diverging_run
    assert completed.returncode == 0, completed.stderr
    reason = "diverged: the training loss was not finite after epoch 1"
    assert f"[1/2] mlp-01 seed 1: FAILED: {reason}" in completed.stdout.splitlines()
    with open(os.path.join(results_dir, "tables-quick", "mlp-01-seed1", "failed.json")) as f:
        assert json.load(f)["reason"] == reason
    assert len(record_paths(os.path.join(results_dir, "tables-quick"), "cnn-01")) == 1
    report = open(os.path.join(results_dir, "TABLES_QUICK.md")).read()
    assert f"failed: seed 1: {reason}" in report


def test_report_regenerated_from_records_matches_them(diverging_run):
    _, results_dir, table = diverging_run
    report_path = os.path.join(results_dir, "TABLES_QUICK.md")
    os.remove(report_path)
    completed = run_script("reproduce.py", "--quick", "--report", "--book-table", table,
                           "--results-dir", results_dir)
    assert completed.returncode == 0, completed.stderr
    assert "running" not in completed.stdout  # --report trains nothing
    report = open(report_path).read()
    [record_path] = record_paths(os.path.join(results_dir, "tables-quick"), "cnn-01")
    record = json.load(open(record_path))
    row_line = next(line for line in report.splitlines() if line.startswith("| 1 | 64-64-64"))
    cells = [cell.strip() for cell in row_line.strip("|").split("|")]
    assert cells[7] == f"{100 * record['train_accuracy']:.2f}"
    assert cells[8] == f"{100 * record['test_accuracy']:.2f}"
    assert cells[9].startswith(f"{100 * record['test_accuracy'] - 99.40:+.2f}")
    assert cells[10] == "1"
    assert re.search(r"\]\((.*)\)", cells[12]).group(1) == os.path.relpath(record_path, results_dir)
    assert os.path.exists(os.path.join(results_dir, "TABLES_QUICK.png"))


def test_bad_rows_flag_is_one_line(tmp_path):
    completed = run_script("reproduce.py", "--rows", "0,2", "--results-dir", str(tmp_path / "r"))
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "reproduce.py: error: argument --rows: row numbers start at 1, got '0,2'"]
