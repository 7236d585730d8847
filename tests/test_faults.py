"""Faults a reader can meet: nothing written through a link or twice, no half-written file
left, damaged records, tables and files refused in one line, limits (file size, memory, locale)
said in one line, output that is closed or an interrupt that is lost still leaving the run."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from companion import cli, files
from companion.errors import UserError
from conftest import ROOT, rewritten_model, run_script
from tables.book_tables import read_book_rows

RECORD = sorted(glob.glob(os.path.join(ROOT, "results", "tables", "mlp-01-seed1", "mlp_mnist",
                                       "*", "record.json")))[0]


def one_line_exit_2(completed, expected):
    assert completed.returncode == 2, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines


def run_folder(tmp_path, record_text=None):
    folder = tmp_path / "run"
    folder.mkdir()
    if record_text is None:
        shutil.copy(RECORD, folder / "record.json")
    else:
        (folder / "record.json").write_text(record_text)
    return folder


def test_redraw_writes_nothing_through_a_link_in_the_run_folder(tmp_path):
    folder = run_folder(tmp_path)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    os.symlink(outside, folder / "curves.png")
    completed = run_script("redraw_figures.py", str(folder))
    one_line_exit_2(completed, "curves.png is a symbolic link")
    assert outside.read_text() == "keep me"


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not JSON"),
    ("[1, 2, 3]", "no per-epoch loss and accuracy"),
    (json.dumps({"epochs": [{"loss": "low", "accuracy": 0.5}]}), "no per-epoch loss"),
    (json.dumps({"epochs": [{"loss": 0.1, "accuracy": 0.9}], "confusion_matrix": [[1]]}),
     "confusion_matrix is not 10 x 10"),
    ("[" * 10_000 + "]" * 10_000, "not JSON"),
    (json.dumps({"epochs": [{"loss": 0.1, "accuracy": 0.9}] * 40_000}), "at most"),
], ids=["not-json", "a-list", "text-loss", "small-confusion", "deep", "huge"])
def test_redraw_refuses_a_damaged_record_in_one_line(tmp_path, text, expected):
    completed = run_script("redraw_figures.py", str(run_folder(tmp_path, text)))
    one_line_exit_2(completed, expected)


def test_redraw_still_draws_from_a_good_record(tmp_path):
    folder = run_folder(tmp_path)
    completed = run_script("redraw_figures.py", str(folder))
    assert completed.returncode == 0, completed.stderr
    assert sorted(os.listdir(folder)) == ["confusion.png", "curves.png", "record.json"]


def test_the_runner_never_follows_a_linked_lock(tmp_path):
    results = tmp_path / "res"
    results.mkdir()
    target = tmp_path / "important.txt"
    target.write_text("do not truncate")
    os.symlink(target, results / ".reproduce.lock")
    completed = run_script("reproduce.py", "--table", "rnn", "--rows", "1", "--quick",
                           "--results-dir", str(results))
    one_line_exit_2(completed, ".reproduce.lock is a symbolic link")
    assert target.read_text() == "do not truncate"
    os.remove(results / ".reproduce.lock")
    (results / ".reproduce.lock").mkdir()
    completed = run_script("reproduce.py", "--table", "rnn", "--rows", "1", "--quick",
                           "--results-dir", str(results))
    one_line_exit_2(completed, ".reproduce.lock is a folder")


def test_a_book_table_that_lists_a_row_twice_is_refused(tmp_path):
    data = book_table_lines()
    table = tmp_path / "table.csv"
    table.write_text("\n".join(data + [data[1]]) + "\n")  # the first row again
    with pytest.raises(ValueError, match="listed twice"):
        read_book_rows(str(table))
    completed = run_script("reproduce.py", "--book-table", str(table), "--report",
                           "--results-dir", str(tmp_path / "res"))
    one_line_exit_2(completed, "listed twice")


@pytest.mark.slow
def test_a_results_dir_that_starts_with_a_dash_stays_a_path(tmp_path):
    completed = subprocess.run([sys.executable, os.path.join(ROOT, "reproduce.py"), "--quick",
                                "--table", "rnn", "--rows", "1", "--results-dir=-res"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "FAILED" not in completed.stdout
    assert glob.glob(str(tmp_path / "-res" / "tables-quick" / "rnn-01-seed1" / "rnn_mnist" /
                         "*" / "record.json"))


def test_minus_zero_is_recorded_as_zero():
    value = cli.dropout_rate("-0")
    assert value == 0.0 and np.copysign(1, value) == 1.0


def test_predict_refuses_an_empty_model_path_and_outputs_that_are_not_numbers():
    completed = run_script("predict_digit.py", "--model", "", "docs/handwriting/seven.jpg")
    one_line_exit_2(completed, "--model: expected a model file, got ''")
    import predict_digit

    with pytest.raises(UserError, match="not numbers"):
        predict_digit.as_probabilities(np.full((1, 10), np.nan, dtype="float32"), "m.keras")


def test_a_cache_that_is_a_fifo_is_refused_rather_than_read(tmp_path):
    os.makedirs(tmp_path / "datasets")
    os.mkfifo(tmp_path / "datasets" / "mnist.npz")
    completed = subprocess.run(
        [sys.executable, "mnist_samples.py", "--dry-run", "--results-dir", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "KERAS_HOME": str(tmp_path)})
    one_line_exit_2(completed, "is not a plain file")


def test_more_logical_cpus_than_the_machine_has_is_refused():
    count = max(2, os.cpu_count() or 1) + 1
    completed = run_script("mlp_mnist.py", "--distribute", "mirrored", "--cpu-devices",
                           str(count), "--dry-run")
    one_line_exit_2(completed, "would not train in any useful time")


def test_a_write_killed_outright_is_cleaned_by_the_next(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    abandoned = tmp_path / f"{files.WRITING}{dead.pid}-abc.tmp"
    abandoned.write_text("half")
    alive = tmp_path / f"{files.WRITING}{os.getppid()}-def.tmp"  # a writer still at work
    alive.write_text("busy")
    files.write_atomically(str(tmp_path / "REPORT.md"), "whole")
    assert sorted(os.listdir(tmp_path)) == sorted(["REPORT.md", alive.name])


@pytest.mark.parametrize("closed", [1, 2])
def test_closed_output_still_leaves_the_run(tmp_path, closed):
    completed = subprocess.run(
        [sys.executable, "predict_digit.py", "docs/handwriting/seven.jpg", "--results-dir",
         str(tmp_path)], cwd=ROOT, timeout=300,
        stdout=subprocess.DEVNULL if closed == 2 else None,
        stderr=subprocess.DEVNULL if closed == 1 else None,
        preexec_fn=lambda: os.close(closed))
    assert completed.returncode == 0
    assert len(glob.glob(str(tmp_path / "predict_digit" / "*" / "record.json"))) == 1


def test_the_report_names_a_damaged_record_in_one_line(tmp_path):
    run = tmp_path / "res" / "tables" / "rnn-01-seed1" / "rnn_mnist" / "20260101-000000"
    run.mkdir(parents=True)
    (run / "record.json").write_text('{"test_accuracy": ')
    completed = run_script("reproduce.py", "--report", "--results-dir", str(tmp_path / "res"))
    one_line_exit_2(completed, "a damaged record")


def test_a_corpus_with_a_rating_that_is_not_a_number_is_refused(tmp_path):
    import gzip

    from sentiment import text_data

    path = tmp_path / "corpus.tsv.gz"
    for rows in (["id\tsentiment\ttext", "1\tgood\tfine film"],
                 ["id\tsentiment\ttext", "1\tnan\tfine film"],
                 ["id\tsentiment\ttext"]):
        with gzip.open(path, "wt") as f:
            f.write("\n".join(rows) + "\n")
        with pytest.raises(UserError, match="corpus file"):
            text_data.load_sentences(str(path))


def test_glove_in_word2vec_format_is_read(tmp_path):
    from sentiment import text_data

    path = tmp_path / "vectors.txt"
    path.write_text("2 3\nthe 0.1 0.2 0.3\nfilm 1 2 3\n")
    vectors = text_data.glove_text_vectors(str(path), ["the", "film", "2"])
    assert sorted(vectors) == ["film", "the"] and vectors["film"].tolist() == [1.0, 2.0, 3.0]


def book_table_lines():
    with open(os.path.join(ROOT, "tables", "book_tables.csv"), encoding="utf-8") as f:
        return [line for line in f.read().splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("column, value, expected", [
    ("relu", "Maybe", "row 1 of the table: relu 'Maybe', expected Yes or None"),
    ("test", "nan", "row 1 of the table: test 'nan' is not a number"),
    ("train", "101", "row 1 of the table: train accuracy 101.0, expected a percentage"),
    ("table", "lstm", "row 1 of the table: unknown table 'lstm' (the book's are mlp, cnn, rnn)"),
    ("row", "one", "row 1 of the table: row 'one' is not a number"),
])
def test_a_book_table_value_the_book_cannot_hold_is_refused(tmp_path, column, value, expected):
    header, first, *rest = book_table_lines()
    cells = dict(zip(header.split(","), first.split(",")), **{column: value})
    table = tmp_path / "table.csv"
    table.write_text("\n".join([header, ",".join(cells.values()), *rest]) + "\n")
    with pytest.raises(ValueError, match=re.escape(expected)):
        read_book_rows(str(table))


def test_a_book_table_saved_by_excel_is_read(tmp_path):
    table = tmp_path / "table.csv"
    table.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(book_table_lines()).encode() + b"\r\n")
    assert read_book_rows(str(table)) == read_book_rows()


def test_a_book_table_with_a_huge_field_is_one_line(tmp_path):
    header, first, *_ = book_table_lines()
    table = tmp_path / "table.csv"
    table.write_text(f"{header}\n{first}\nmlp,2,{'9' * 200_000},None,SGD,Yes,1,1\n")
    completed = run_script("reproduce.py", "--book-table", str(table), "--report",
                           "--results-dir", str(tmp_path / "res"))
    one_line_exit_2(completed, "not a table csv can read: field larger than field limit")


def limited(resource_name, limit):
    """preexec_fn: a resource limit as `ulimit` sets it for the child alone."""
    import resource

    def set_limit():
        which = getattr(resource, resource_name)
        resource.setrlimit(which, (limit, resource.getrlimit(which)[1]))
    return set_limit


def test_a_file_size_limit_is_one_line_and_keeps_nothing(tmp_path):
    completed = subprocess.run(
        [sys.executable, "mlp_mnist.py", "--dry-run", "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        preexec_fn=limited("RLIMIT_FSIZE", 100 * 1024))  # ulimit -f 100
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert completed.stderr.strip().splitlines()[-1] == (
        "mlp_mnist.py: error: cannot write the results (File too large); nothing of this run "
        "was kept")
    assert os.listdir(tmp_path / "mlp_mnist") == []


def test_a_memory_limit_too_low_for_tensorflow_is_one_line(tmp_path):
    completed = subprocess.run(
        [sys.executable, "mlp_mnist.py", "--dry-run", "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        preexec_fn=limited("RLIMIT_AS", 1024 ** 3))  # ulimit -v 1048576
    one_line_exit_2(completed, "mlp_mnist.py: error: Keras cannot load the backend "
                               "'tensorflow' (")
    assert "too little memory for it (a limit set with ulimit -v?)" in completed.stderr


def test_the_c_locale_writes_the_report_and_shows_any_file_name(tmp_path):
    c_locale = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}
    report = subprocess.run([sys.executable, "reproduce.py", "--report", "--results-dir",
                             str(tmp_path / "res")], cwd=ROOT, capture_output=True,
                            timeout=300, env=c_locale)
    assert report.returncode == 0, report.stderr[-2000:]
    assert "±" in (tmp_path / "res" / "TABLES.md").read_text(encoding="utf-8")
    picture = tmp_path / "siebén.jpg"
    shutil.copy(os.path.join(ROOT, "docs", "handwriting", "seven.jpg"), picture)
    predicted = subprocess.run([sys.executable, "predict_digit.py", str(picture),
                                "--results-dir", str(tmp_path / "res")], cwd=ROOT,
                               capture_output=True, timeout=300, env=c_locale)
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert f"{tmp_path}/sieb\\xe9n.jpg: 7 (".encode() in predicted.stdout


def test_a_full_disk_during_the_report_says_the_finished_rows_are_kept(tmp_path, monkeypatch,
                                                                       capsys):
    import reproduce
    from companion import lifecycle

    def full_disk(args):
        raise OSError(28, "No space left on device", "TABLES.md")

    monkeypatch.setattr(reproduce, "write_reports", full_disk)
    monkeypatch.setattr(sys, "argv", ["reproduce.py"])
    with pytest.raises(SystemExit) as ended:
        lifecycle.run_main(reproduce.main, ["--report", "--results-dir", str(tmp_path)],
                           kept_on_write_error=reproduce.KEPT_ON_WRITE_ERROR)
    assert ended.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        "reproduce.py: error: cannot write TABLES.md (No space left on device); the rows that "
        "finished are kept; run the same command again to carry on"]


class InterruptedInCleanup:
    """An object whose cleanup receives Ctrl-C: Python prints "Exception ignored" for what the
    handler raises there and goes on, as it does inside JAX's and weakrefs' callbacks."""

    def __del__(self):
        from companion import lifecycle

        lifecycle._StopRequest.receive(signal.SIGINT, None)


@pytest.mark.parametrize("written", [False, True])
def test_an_interrupt_lost_in_a_cleanup_callback_still_stops_the_run(monkeypatch, capsys,
                                                                     tmp_path, written):
    from companion import lifecycle

    def main(argv):
        InterruptedInCleanup()  # collected at once: the interrupt is raised and swallowed
        if written:
            lifecycle.KEPT.append(str(tmp_path / "run"))
        print("finished")

    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py"])
    with pytest.raises(SystemExit) as ended:
        lifecycle.run_main(main)
    assert ended.value.code == 130
    kept = f"its results were written ({tmp_path / 'run'})" if written else \
        "this run wrote no results"
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"mlp_mnist.py: interrupted; {kept}"]  # no traceback


def test_an_interrupt_not_yet_raised_when_the_results_are_written_keeps_nothing(tmp_path):
    import argparse

    from companion import lifecycle, records

    args = argparse.Namespace(results_dir=str(tmp_path), seed=1, dry_run=True)
    run = records.Run("mlp_mnist.py", args)
    lifecycle._StopRequest.pending = signal.SIGINT
    try:
        with pytest.raises(KeyboardInterrupt):
            run.write({}, texts={"notes.txt": "a run"})
    finally:
        lifecycle._StopRequest.pending = None
    assert os.listdir(tmp_path / "mlp_mnist") == []


def test_a_staging_folder_left_under_this_process_id_is_abandoned(tmp_path):
    from companion import records

    own = tmp_path / f".20260101-000000.partial-{os.getpid()}"
    alive = tmp_path / ".20260101-000001.partial-1"  # init: a process that exists
    for folder in (own, alive):
        folder.mkdir()
        (folder / "model.keras").write_bytes(b"half")
    records.remove_abandoned_staging(str(tmp_path))
    assert os.listdir(tmp_path) == [alive.name]


def huge_dense(members):
    config = json.loads(members["config.json"])
    dense = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")
    dense["config"]["units"] = 10_000_000
    members["config.json"] = json.dumps(config).encode()


@pytest.mark.parametrize("change, expected", [
    (lambda members: members.update({"padding.bin": os.urandom(1024)}),
     "holds 'padding.bin', which a Keras model file does not; not loaded"),
    (lambda members: members.update({"assets/zeros.bin": bytes(200 * 2 ** 20)}),
     "assets/zeros.bin unpacks to 209,715,200 bytes from"),
    (huge_dense, "its layers declare 5,770,074,496 weights (23,080 MB) but the file holds 1.0 MB"),
])
def test_a_model_file_that_would_cost_far_more_than_its_size_is_refused(tmp_path, change,
                                                                        expected):
    import predict_digit

    path = rewritten_model(tmp_path, change)
    assert os.path.getsize(path) < 3 * 2 ** 20
    with pytest.raises(UserError, match=re.escape(expected)):
        predict_digit.load(path)


def test_the_committed_models_pass_the_archive_check(tmp_path):
    import predict_digit

    path = rewritten_model(tmp_path, lambda members: None)  # the same members, repacked
    model, _ = predict_digit.load(path)
    assert model.output_shape == (None, 10)


def test_the_report_lists_each_runs_folder_once_however_many_rows(tmp_path, monkeypatch):
    """A long book table's report reads each runs folder once, not once for each row (the
    time grew with the square of the rows)."""
    from tables import tables_report

    header, *rows = book_table_lines()
    table = tmp_path / "table.csv"
    table.write_text("\n".join([header] + [
        ",".join([cells[0], str(int(cells[1]) + 100 * copy)] + cells[2:])
        for copy in range(8) for cells in (row.split(",") for row in rows)]) + "\n")
    for protocol in ("tables", "tables-epochs-x8", "tables-batch64"):
        (tmp_path / "res" / protocol / "mlp-01-seed1").mkdir(parents=True)
    listed = []
    listdir = os.listdir
    monkeypatch.setattr(tables_report.os, "listdir",
                        lambda path=".": listed.append(str(path)) or listdir(path))
    tables_report.write_tables_report(read_book_rows(str(table)), str(tmp_path / "res"), False)
    runs_folders = [path for path in listed if os.path.basename(path).startswith("tables")]
    assert len(read_book_rows(str(table))) == 208
    assert 1 <= len(runs_folders) == len(set(runs_folders)) <= 3, runs_folders


def test_an_mnist_file_declaring_arrays_larger_than_memory_blames_the_file(tmp_path):
    """Not 'out of memory; try a smaller model': the file is damaged, and the line says so."""
    import zipfile

    from companion import mnist

    arrays = {"x_train": np.zeros((2, 28, 28), np.uint8), "y_train": np.zeros(2, np.uint8),
              "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.zeros(2, np.uint8)}
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    array = members["x_train.npy"]  # an .npy header: magic, version, length, text padded
    length = int.from_bytes(array[8:10], "little")
    header = array[10:10 + length].replace(b"(2, 28, 28)", b"(999999999999, 28, 28)")
    header = header.replace(b" " * 11 + b"\n", b"\n")  # the same length: the padding shrinks
    members["x_train.npy"] = array[:10] + header + array[10 + length:]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(UserError, match="is unreadable"):
        mnist.read_keras_file(str(path))
