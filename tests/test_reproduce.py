"""reproduce.py: the book's rows as commands, resuming after an interrupt, failed rows, report."""
import fnmatch
import glob
import importlib.util
import json
import os
import re
import signal
import time

import pytest

import protocol_experiment  # results/investigations/protocols/ is on pytest's pythonpath
import reproduce
from companion.files import replacing
from conftest import ROOT, run_script, start_script
from tables import book_tables, protocol_evidence, tables_report
from tables.book_tables import LISTING, PROTOCOLS, read_book_rows, row_flags, runs_folder

# the chapter's tables as the book prints them, committed as test data (where from: its header)
CHAPTER = os.path.join(ROOT, "tests", "data", "chapter1-tables.md")


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


def test_book_table_data_matches_the_chapter():
    rows = read_book_rows()
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
    row = {row["id"]: row for row in read_book_rows()}[row_id]
    assert row_flags(row) == (script, flags)


@pytest.mark.parametrize("row_id, protocol, added", [
    ("mlp-04", "listing", []),
    ("mlp-04", "keras2-batch32", ["--batch-size", "32"]),
    ("cnn-01", "batch64", ["--batch-size", "64"]),
    ("mlp-16", "epochs-x4", ["--epochs", "80"]),
    ("cnn-03", "epochs-x4", ["--epochs", "40"]),
    ("rnn-01", "epochs-x4", ["--epochs", "80"]),
    ("mlp-06", "epochs-x8", ["--epochs", "160"]),
])
def test_protocol_adds_its_flags_to_the_rows_command(row_id, protocol, added):
    row = {row["id"]: row for row in read_book_rows()}[row_id]
    script, listing_flags = row_flags(row)
    assert row_flags(row, protocol) == (script, listing_flags + added)


def test_each_protocol_has_its_own_runs_folder():
    assert runs_folder("r", "listing") == os.path.join("r", "tables")  # as before protocols
    assert runs_folder("r", "listing", quick=True) == os.path.join("r", "tables-quick")
    assert runs_folder("r", "keras2-batch32") == os.path.join("r", "tables-keras2-batch32")
    assert runs_folder("r", "batch64", quick=True) == os.path.join("r", "tables-batch64-quick")
    folders = {runs_folder("r", p, quick) for p in PROTOCOLS for quick in (False, True)}
    assert len(folders) == 2 * len(PROTOCOLS)


def test_per_table_protocol_trains_and_files_each_table_as_the_protocol_it_names(monkeypatch):
    monkeypatch.setitem(book_tables.PROTOCOLS, "mixed", {"about": "test", "tables": {
        "mlp": "epochs-x4", "cnn": LISTING, "rnn": "keras2-batch32"}})
    rows = {row["id"]: row for row in read_book_rows()}
    assert row_flags(rows["mlp-04"], "mixed") == row_flags(rows["mlp-04"], "epochs-x4")
    assert row_flags(rows["rnn-01"], "mixed")[1][-2:] == ["--batch-size", "32"]
    assert row_flags(rows["cnn-01"], "mixed") == row_flags(rows["cnn-01"], LISTING)
    folder = book_tables.table_runs_folder
    assert folder("r", "mixed", "mlp") == os.path.join("r", "tables-epochs-x4")
    assert folder("r", "mixed", "cnn") == os.path.join("r", "tables")
    assert folder("r", "mixed", "rnn", quick=True) == \
        os.path.join("r", "tables-keras2-batch32-quick")


def test_protocol_for_one_table_refuses_the_others(tmp_path):
    rows = {row["id"]: row for row in read_book_rows()}
    with pytest.raises(ValueError, match="protocol epochs-x8 trains only mlp rows"):
        row_flags(rows["cnn-01"], "epochs-x8")
    completed = run_script("reproduce.py", "--protocol", "epochs-x8", "--table", "rnn",
                           "--results-dir", str(tmp_path))
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "reproduce.py: error: argument --table: protocol epochs-x8 trains only the mlp table"]
    assert not os.listdir(tmp_path)


def test_experiment_scores_each_table_on_the_hypotheses_that_train_it(tmp_path):
    scores = protocol_experiment.scores(read_book_rows(), str(tmp_path))  # no runs: nothing scored
    assert "epochs-x8" in scores["mlp"] and "epochs-x8" not in scores["cnn"]
    assert set(scores["rnn"]) == {"listing", "keras2-batch32", "batch64", "epochs-x4"}
    assert set(scores["mlp"].values()) == {None}


def test_a_later_round_changes_a_choice_only_once_scored_in_full():
    first_round = {"listing": 2.6, "keras2-batch32": 0.9, "batch64": 1.6, "epochs-x4": 0.5}
    choose = protocol_experiment.choose_protocols
    assert choose({"mlp": {**first_round, "epochs-x8": None}}) == {"mlp": "epochs-x4"}
    assert choose({"mlp": {**first_round, "epochs-x8": 0.3}}) == {"mlp": "epochs-x8"}
    assert choose({"mlp": {**first_round, "epochs-x8": 0.7}}) == {"mlp": "epochs-x4"}
    assert choose({"mlp": {**first_round, "batch64": None, "epochs-x8": 0.3}}) == {"mlp": None}
    assert choose({"cnn": {**first_round, "listing": 0.55}}) == {"cnn": LISTING}  # margin 0.1


def test_unknown_protocol_is_one_line(tmp_path):
    completed = run_script("reproduce.py", "--protocol", "batch16", "--results-dir", str(tmp_path))
    assert completed.returncode == 2
    [line] = completed.stderr.splitlines()
    assert line.startswith("reproduce.py: error: argument --protocol: invalid choice: 'batch16'")


def summary(test, train=99.0, seeds=(1, 2, 3), book_test=98.0):
    row = {"id": "mlp-01", "row": 1, "table": "mlp", "optimizer": "SGD", "train": 99.0,
           "test": book_test}
    values = [test - 0.1, test, test + 0.1][:len(seeds)]
    return {"row": row, "seeds": list(seeds), "failures": [], "tests": values,
            "test": sum(values) / len(values), "train": train, "test_spread": 0.1,
            "train_spread": 0.1, "records": [], "paths": []}


def test_report_shows_the_protocol_the_command_ran_beside_the_listing_and_the_choice():
    assert tables_report.reported_protocols() == [LISTING, "experiment-choice"]
    assert tables_report.reported_protocols(also="batch64") == [
        LISTING, "experiment-choice", "batch64"]
    assert tables_report.reported_protocols(also=LISTING) == [LISTING, "experiment-choice"]


def test_summary_line_counts_only_rows_with_all_three_seeds():
    summaries = [summary(97.6), summary(97.4), summary(98.0, seeds=(1,)), summary(98.4)]
    assert tables_report.within_lines(summaries, "keras2-batch32")[0] == (
        "2 of 4 rows within 0.5 points (means over seeds 1,2,3), protocol "
        "keras2-batch32; "
        "1 row does not have seeds 1,2,3 yet")
    summaries.append(summary(98.1, seeds=(2,)))
    assert tables_report.within_lines(summaries, "keras2-batch32")[0].endswith(
        "; 2 rows do not have seeds 1,2,3 yet")


def test_second_summary_line_asks_the_train_column_too():
    summaries = [summary(97.6, train=99.4), summary(97.7, train=99.2), summary(98.0, train=98.4)]
    assert tables_report.within_lines(summaries, "listing")[1] == (
        "2 of 3 rows with train and test within 0.5 points, protocol listing")


def test_interval_of_the_mean_uses_t_with_n_minus_1_degrees_of_freedom():
    s = summary(97.6)  # tests 97.5, 97.6, 97.7: sd 0.1, so 4.303 * 0.1 / sqrt(3) either side
    low, high = tables_report.interval(s)
    assert round(low, 3) == round(-0.4 - 0.24844, 3) and round(high, 3) == round(-0.4 + 0.24844, 3)
    assert tables_report.delta_cell(s) == "-0.40 [-0.65, -0.15] ✓"
    assert tables_report.fragile_rows([s, summary(98.0)]) == ["mlp-01"]  # -0.65 crosses -0.5
    assert tables_report.interval(summary(97.6, seeds=(1,))) is None


def test_finding_is_generated_for_a_row_that_misses_and_names_the_evidence():
    missed = summary(96.0, train=96.5)
    text = tables_report.finding(missed["row"], {"listing": missed})
    assert text.startswith("Row 1 (SGD): `listing` Δ -2.00: train 96.50% against the book's "
                           "99.00%: trained less far than the book's run; no seed reaches the "
                           "band (95.90-96.10%).")
    assert tables_report.finding(missed["row"], {"listing": summary(97.6)}) is None
    short = tables_report.finding(missed["row"], {"listing": summary(96.0, train=98.4)})
    assert "train 98.40% against the book's 99.00%: trained less far" in short
    close = tables_report.finding(missed["row"], {"listing": summary(96.0, train=98.7)})
    assert "train 98.70% is within 0.5 points of the book's 99.00%, so the gap is not" in close
    edge = tables_report.finding(missed["row"], {"listing": summary(97.45)})
    assert "Δ -0.55" in edge and "; 1 of 3 seeds within the band (97.35-97.55%): a borderline " \
        "miss." in edge


def test_finding_for_a_row_that_one_protocol_misses_names_the_protocol_that_does_not():
    missed, within = summary(96.0, train=96.5), summary(97.8, train=99.2)
    text = tables_report.finding(missed["row"], {"listing": missed, "epochs-x8": within})
    assert text == ("Row 1 (SGD): `listing` Δ -2.00: train 96.50% against the book's 99.00%: "
                    "trained less far than the book's run; no seed reaches the band "
                    "(95.90-96.10%). Within the band under `epochs-x8`: Δ -0.20, train 99.20%.")
    # a protocol without its three seeds says nothing either way
    partial = summary(97.8, seeds=(1, 2))
    assert "epochs-x8" not in tables_report.finding(
        missed["row"], {"listing": missed, "epochs-x8": partial})
    assert tables_report.finding(missed["row"], {"listing": within, "epochs-x8": partial}) \
        is None


def test_finding_points_to_the_experiment_rows_whose_evidence_the_table_shows_once(tmp_path):
    rows = read_book_rows()
    by_id = {row["id"]: row for row in rows}
    missed = summary(96.0, train=96.5)
    for row_id, which in [("mlp-07", "rows 4, 6"), ("mlp-06", "rows 4, 6"), ("mlp-15", "row 16")]:
        label, _ = protocol_evidence.evidence(by_id[row_id], rows, str(tmp_path))
        text = tables_report.finding(by_id[row_id], {"listing": missed}, label)
        assert text.endswith(f"Evidence: the protocol experiment on {which} (below).")
    sgd_rows = protocol_evidence.tested_rows(by_id["mlp-03"], rows)
    assert sgd_rows == protocol_evidence.tested_rows(by_id["mlp-08"], rows) == [
        by_id["mlp-04"], by_id["mlp-06"]]
    assert protocol_evidence.tested_rows(by_id["mlp-17"], rows) == []  # no RMSprop row was tested
    assert protocol_evidence.experiment_evidence(sgd_rows, str(tmp_path)) == (
        "Evidence, [the protocol experiment](investigations/protocols/README.md) on rows 4, 6 "
        "(SGD), Δ test by hypothesis: not all seeds yet.")


def test_runs_column_names_each_seeds_machine_and_settings():
    xeon = {"devices": ["cpu:0"], "accelerator": None, "keras_backend": "tensorflow",
            "machine": {"processor": "Intel(R) Xeon(R) Processor",
                        "vector_extensions": ["avx", "avx2", "avx512f"]},
            "hyperparameters": {"jit_compile": "yes", "steps_per_execution": 16},
            "execution": {"steps_per_execution": 16, "fused": False}}
    epyc = {**xeon, "machine": {"processor": "AMD EPYC", "vector_extensions": ["avx", "avx2"]},
            "hyperparameters": {"jit_compile": "auto", "steps_per_execution": 1},
            "execution": {"steps_per_execution": 1, "fused": False}}
    h200 = {"devices": ["gpu:0"], "accelerator": "NVIDIA H200", "keras_backend": "jax",
            "hyperparameters": {"jit_compile": "auto", "steps_per_execution": "epoch"},
            "execution": {"steps_per_execution": 469, "fused": True}}
    old = {"devices": ["cpu:0"], "keras_backend": "tensorflow",  # before the extensions
           "machine": {"processor": "AMD EPYC"}, "hyperparameters": {}}
    assert tables_report.machines([1, 2, 3, 4, 5], [xeon, xeon, xeon, epyc, epyc]) == (
        "1,2,3: Intel Xeon (avx512f), tensorflow, XLA, 16 steps; "
        "4,5: AMD EPYC (avx2), tensorflow, jit auto, 1 step")
    assert tables_report.machines([1, 2], [h200, old]) == (
        "1: NVIDIA H200 gpu:0, jax, jit auto, 469 steps scan; "
        "2: AMD EPYC (extensions not recorded), tensorflow, jit not recorded, steps per call "
        "not recorded")  # an old record holds neither setting: not shown as Keras' own
    assert tables_report.machines_once([xeon, epyc, xeon]) == (
        "Intel Xeon (avx512f), tensorflow, XLA, 16 steps; AMD EPYC (avx2), tensorflow, "
        "jit auto, 1 step")


def test_stopped_report_write_leaves_the_old_file_and_no_stray_one(tmp_path, monkeypatch):
    path = tmp_path / "TABLES.png"
    path.write_bytes(b"old")
    figure = tables_report.plt.figure()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(figure, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tables_report.save(figure, str(path))
    assert os.listdir(tmp_path) == ["TABLES.png"]
    assert path.read_bytes() == b"old"


def record_paths(runs_dir, row_id):
    return sorted(glob.glob(os.path.join(runs_dir, f"{row_id}-seed1", "*", "*", "record.json")))


def wait_for(predicate, timeout_s=300):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_interrupted_run_resumes_without_rerunning_finished_rows(tmp_path, stop_signal):
    """Under a protocol other than the listing, with its own folder, which the rerun resumes."""
    results_dir = str(tmp_path)
    runs_dir = os.path.join(results_dir, "tables-keras2-batch32-quick")
    flags = ["--quick", "--protocol", "keras2-batch32", "--table", "mlp", "--rows", "1,2",
             "--results-dir", results_dir]
    runner = start_script("reproduce.py", *flags)
    try:
        assert wait_for(lambda: record_paths(runs_dir, "mlp-01")), "row 1 never finished"
        # Row 2 starts right after row 1 and needs seconds to import Keras: it is mid-run now.
        runner.send_signal(stop_signal)
        stdout, stderr = runner.communicate(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
    status, what = (130, "interrupted") if stop_signal == signal.SIGINT else \
        (143, "stopped by kill (SIGTERM)")
    assert runner.returncode == status, (runner.returncode, stdout[-2000:], stderr[-3000:])
    assert stderr.splitlines()[-1] == \
        f"reproduce.py: {what}; run the same command again to carry on"
    first_row = record_paths(runs_dir, "mlp-01")
    assert len(first_row) == 1
    assert record_paths(runs_dir, "mlp-02") == []  # cut off: nothing of it is kept
    assert glob.glob(os.path.join(runs_dir, "mlp-02-seed1", "*", ".*partial*")) == []

    completed = run_script("reproduce.py", *flags)
    assert completed.returncode == 0, completed.stderr
    assert f"[1/2] mlp-01 seed 1: done before ({os.path.dirname(first_row[0])})" \
        in completed.stdout.splitlines()
    assert "[2/2] mlp-02 seed 1: running" in completed.stdout
    assert record_paths(runs_dir, "mlp-01") == first_row  # not rerun
    assert len(record_paths(runs_dir, "mlp-02")) == 1
    record = json.load(open(record_paths(runs_dir, "mlp-02")[0]))
    assert record["hyperparameters"]["batch_size"] == 32
    assert not os.path.exists(os.path.join(results_dir, "tables-quick"))  # the listing's folder
    report = open(os.path.join(results_dir, "TABLES_QUICK.md")).read()
    assert "- 0 of 26 rows within 0.5 points (means over seeds 1,2,3), " \
           "protocol keras2-batch32; 26 rows " \
           "do not have seeds 1,2,3 yet" in report.splitlines()  # quick runs have one seed


@pytest.mark.slow
def test_rows_run_several_at_once_stop_together_and_resume(tmp_path):
    """--jobs 2: two rows train at once; Ctrl-C stops both, each leaves a whole record or
    nothing, and the rerun runs exactly the rows without one."""
    results_dir = str(tmp_path)
    runs_dir = os.path.join(results_dir, "tables-quick")
    flags = ["--quick", "--jobs", "2", "--table", "mlp", "--rows", "1,2,3",
             "--results-dir", results_dir]
    rows = ["mlp-01", "mlp-02", "mlp-03"]
    runner = start_script("reproduce.py", *flags)
    try:
        assert wait_for(lambda: any(record_paths(runs_dir, row) for row in rows)), \
            "no row finished"
        runner.send_signal(signal.SIGINT)
        stdout, stderr = runner.communicate(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 130, (runner.returncode, stdout[-2000:], stderr[-3000:])
    lines = stdout.splitlines()
    started = [i for i, line in enumerate(lines) if ": running; " in line]
    finished = [i for i, line in enumerate(lines) if ": test accuracy " in line]
    # the second row started before the first finished
    assert len(started) >= 2 and (not finished or started[1] < finished[0]), lines
    kept = {row: record_paths(runs_dir, row) for row in rows}
    assert all(len(paths) <= 1 for paths in kept.values()), kept
    assert glob.glob(os.path.join(runs_dir, "*", "*", ".*partial*")) == []
    assert 1 <= sum(len(paths) for paths in kept.values()) < 3

    completed = run_script("reproduce.py", *flags)
    assert completed.returncode == 0, completed.stderr
    for number, row in enumerate(rows, 1):
        [path] = record_paths(runs_dir, row)
        if kept[row]:
            assert path == kept[row][0]  # not rerun
            assert f"[{number}/3] {row} seed 1: done before ({os.path.dirname(path)})" \
                in completed.stdout.splitlines()
        else:
            assert f"[{number}/3] {row} seed 1: running" in completed.stdout


def test_rows_at_once_share_the_gpu_memory(monkeypatch):
    import reproduce

    monkeypatch.delenv("XLA_PYTHON_CLIENT_MEM_FRACTION", raising=False)
    assert "XLA_PYTHON_CLIENT_MEM_FRACTION" not in reproduce.child_environment(1)
    environment = reproduce.child_environment(4)
    assert environment["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.225"
    assert environment["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    monkeypatch.setenv("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.5")  # the reader's own choice stays
    assert reproduce.child_environment(4)["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.5"


def write_record(folder, minutes, dry_run=False):
    os.makedirs(folder)
    record = {"started": "2026-11-27T10:00:00+00:00", "dry_run": dry_run,
              "finished": f"2026-11-27T10:{minutes:02d}:00+00:00"}
    with open(os.path.join(folder, "record.json"), "w") as f:
        json.dump(record, f)


def test_estimate_takes_each_row_from_its_own_runs_under_the_protocol(tmp_path):
    import argparse

    import reproduce

    rows = {row["id"]: row for row in read_book_rows()}
    args = argparse.Namespace(results_dir=str(tmp_path), protocol="epochs-x8", quick=False,
                              jobs=1)
    runs_dir = runs_folder(str(tmp_path), "epochs-x8")
    write_record(os.path.join(tmp_path, "mlp_mnist", "a"), 2)  # the script's default 20 epochs
    write_record(os.path.join(tmp_path, "mlp_mnist", "b"), 58, dry_run=True)
    left = [(rows["mlp-04"], 2), (rows["mlp-13"], 1)]
    assert reproduce.estimate(left, args) == "about 0:04 (h:mm) left"
    write_record(os.path.join(runs_dir, "mlp-04-seed1", "mlp_mnist", "a"), 6)
    assert reproduce.estimate(left, args) == "about 0:12 (h:mm) left"  # the table's runs
    write_record(os.path.join(runs_dir, "mlp-13-seed1", "mlp_mnist", "a"), 30)
    assert reproduce.estimate(left, args) == "about 0:36 (h:mm) left"  # each row's own
    args.jobs = 2
    assert reproduce.estimate(left, args) == "about 0:18 (h:mm) left"
    assert reproduce.estimate([(rows["cnn-01"], 1)], args) == \
        "about 0:00 (h:mm) left, plus 1 row of unknown length"


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


@pytest.mark.slow
def test_diverging_row_is_recorded_as_failed_and_the_run_goes_on(diverging_run):
    """The other rows run and are kept; the runner's status says a row failed (issue 43)."""
    completed, results_dir, _ = diverging_run
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.splitlines()[-1] == ("reproduce.py: 1 of 2 runs failed (their "
                                                 "reasons are above); the others are kept")
    reason = "diverged: the training loss was not finite after epoch 1"
    assert f"[1/2] mlp-01 seed 1: FAILED: {reason}" in completed.stdout.splitlines()
    failed = os.path.join(results_dir, "tables-quick", "mlp-01-seed1", "failed.json")
    with open(failed) as f:
        assert json.load(f)["reason"] == reason
    for path in (failed, os.path.join(results_dir, "TABLES_QUICK.md")):  # readable by all
        assert os.stat(path).st_mode & 0o777 == 0o644
    assert len(record_paths(os.path.join(results_dir, "tables-quick"), "cnn-01")) == 1
    report = open(os.path.join(results_dir, "TABLES_QUICK.md")).read()
    assert f"; seed 1 failed: {reason} |" in report
    row_line = next(line for line in report.splitlines() if line.startswith("| 1 | 256-256-256"))
    # the listing's columns (after the book's 90.00 | 90.00), then the chosen protocol's, not run
    assert "| 90.00 | 90.00 | - | - | failed |" in row_line


@pytest.mark.slow
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
    assert cells[7] == f"{100 * record['train_accuracy']:.2f} (seed 1)"
    assert cells[8] == f"{100 * record['test_accuracy']:.2f} (seed 1)"
    assert cells[9] == f"{100 * record['test_accuracy'] - 99.40:+.2f}"  # no ✓ on one seed
    runs_line = next(line for line in report.splitlines() if line.startswith("| cnn-01 |"))
    cells = [cell.strip() for cell in runs_line.strip("|").split("|")]
    assert cells[1] == "1"
    assert re.search(r"\]\((.*)\)", cells[4]).group(1) == os.path.relpath(record_path, results_dir)
    assert "- 0 of 2 rows within 0.5 points (means over seeds 1,2,3), " \
           "protocol listing; 2 rows do not " \
           "have seeds 1,2,3 yet" in report.splitlines()
    assert os.path.exists(os.path.join(results_dir, "TABLES_QUICK.png"))


def test_bad_rows_flag_is_one_line(tmp_path):
    completed = run_script("reproduce.py", "--rows", "0,2", "--results-dir", str(tmp_path / "r"))
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "reproduce.py: error: argument --rows: row numbers start at 1, got '0,2'"]


def test_file_being_written_is_one_that_gitignore_names(tmp_path):
    with open(os.path.join(ROOT, ".gitignore")) as f:
        patterns = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    with replacing(str(tmp_path / "TABLES.md"), "w", ".tmp") as f:
        name = os.path.basename(f.name)
    assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), \
        f"{name} would be committed if a commit ran during the write"


def test_the_experiment_scores_seeds_1_to_3_even_where_a_row_has_more(tmp_path):
    rows = read_book_rows()
    row = next(r for r in rows if r["id"] == "rnn-03")
    folder = tables_report.table_runs_folder(str(tmp_path), LISTING, "rnn")
    for seed, test in [(1, 0.974), (2, 0.974), (3, 0.974), (4, 0.90), (5, 0.90)]:
        run = os.path.join(folder, f"rnn-03-seed{seed}", "rnn_mnist", "20260101-000000")
        os.makedirs(run)
        with open(os.path.join(run, "record.json"), "w") as f:
            json.dump({"test_accuracy": test, "train_accuracy": 0.9679,
                       "started": "2026-01-01T00:00:00", "finished": "2026-01-01T00:01:00"}, f)
    assert tables_report.summarize(row, folder)["seeds"] == [1, 2, 3, 4, 5]
    rnn03 = tables_report.summarize(row, folder, (1, 2, 3))
    assert rnn03["seeds"] == [1, 2, 3] and round(rnn03["test"], 6) == 97.4
    evidence = protocol_evidence.experiment_evidence([row], str(tmp_path))
    assert evidence.endswith("`listing` -0.00.")  # 97.4 over seeds 1-3 (the book: 97.40)


def test_a_results_folder_with_brackets_is_a_path_not_a_pattern(tmp_path):
    runs_dir = tmp_path / "res[1]" / "tables"  # as glob patterns, [1] would match "1" only
    run = runs_dir / "mlp-01-seed1" / "mlp_mnist" / "20260101-000000"
    run.mkdir(parents=True)
    (run / "record.json").write_text('{"status": "finished", "started": "2026-01-01T00:00:00", '
                                     '"finished": "2026-01-01T00:02:00"}')
    path, record = book_tables.finished_record(str(runs_dir), {"id": "mlp-01"}, 1)
    assert path == str(run / "record.json") and record["status"] == "finished"
    pattern = os.path.join(glob.escape(str(runs_dir / "mlp-01-seed1")), "*")
    assert reproduce.recorded_minutes(pattern) == [2.0]


@pytest.mark.parametrize("regularizer, optimizer, message", [
    ("Dropout(1.5)", "SGD", "row mlp-01: --dropout 1.5: dropout rate must be in [0, 1), got '1.5'"),
    ("Dropout(0.2)", "Nadam", "row mlp-01: --optimizer nadam: unknown optimizer 'nadam' (choose "
                              "from sgd, adam, rmsprop)"),
])
def test_a_book_table_value_no_script_takes_is_refused_before_any_row(tmp_path, regularizer,
                                                                       optimizer, message):
    table = tmp_path / "rows.csv"
    table.write_text("table,row,layers,regularizer,optimizer,relu,train,test\n"
                     f"mlp,1,256-256-256,{regularizer},{optimizer},Yes,90.0,90.0\n")
    completed = run_script("reproduce.py", "--book-table", str(table), "--results-dir",
                           str(tmp_path / "results"))
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [f"reproduce.py: error: {message}"]
    assert not (tmp_path / "results").exists()


def test_a_book_table_without_the_books_columns_is_one_line(tmp_path):
    table = tmp_path / "rows.csv"
    table.write_text("table,row,train,test\nmlp,1,90.0,90.0\n")
    completed = run_script("reproduce.py", "--book-table", str(table), "--results-dir",
                           str(tmp_path / "results"))
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"reproduce.py: error: argument --book-table: cannot read {str(table)!r} (no layers, "
        f"regularizer, optimizer, relu column (a book table's header: "
        f"table,row,layers,regularizer,optimizer,relu,train,test))"]


def test_a_runner_started_with_ctrl_c_ignored_still_stops_on_it_while_starting(tmp_path):
    runner = start_script("reproduce.py", "--quick", "--table", "mlp", "--rows", "1",
                          "--results-dir", str(tmp_path), ready_at="parse",
                          sigint=signal.SIG_IGN)  # as `cmd &` starts it; reading its flags
    runner.send_signal(signal.SIGINT)
    _, stderr = runner.communicate(timeout=120)
    assert runner.returncode == 130
    assert stderr.strip().splitlines() == ["reproduce.py: interrupted; this run wrote no results"]
    assert glob.glob(str(tmp_path / "**" / "record.json"), recursive=True) == []


def test_a_report_for_another_protocol_leaves_the_committed_page_alone(tmp_path):
    """`--report --protocol batch64` (a command of docs/tables.md) writes TABLES-batch64.md
    and leaves TABLES.md as it was (issue 39)."""
    page = tmp_path / "TABLES.md"
    page.write_text("the committed page")
    completed = run_script("reproduce.py", "--report", "--protocol", "batch64",
                           "--results-dir", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == f"Report: {tmp_path / 'TABLES-batch64.md'}"
    assert page.read_text() == "the committed page"
    assert "batch64: test" in (tmp_path / "TABLES-batch64.md").read_text()


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch installed")
def test_a_backend_that_is_not_installed_is_refused_before_any_row(tmp_path):
    """KERAS_BACKEND=torch without torch: every row would fail; one line instead (issue 43)."""
    completed = run_script("reproduce.py", "--quick", "--table", "mlp", "--rows", "1",
                           "--results-dir", str(tmp_path),
                           env={**os.environ, "KERAS_BACKEND": "torch"})
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "reproduce.py: error: the Keras backend 'torch' needs the package 'torch', which is not "
        "installed (pip install torch), or set KERAS_BACKEND=tensorflow"]
    assert list(tmp_path.iterdir()) == []
