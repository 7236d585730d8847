"""Reproduce the chapter's accuracy tables (1.3.2, 1.4.1, 1.5.1) with the scripts' own code.

Every row of the book's tables (companion/book_tables.csv) becomes one command line of
mlp_mnist.py, cnn_mnist.py or rnn_mnist.py with the book's settings; each (row, seed) runs as its
own process and leaves its own record. results/TABLES.md then sets the measured accuracies beside
the book's, with a figure of book vs measured test accuracy.

    python reproduce.py                          # all 26 rows, seed 1 (hours on a 2-core CPU)
    python reproduce.py --table mlp --rows 3,5   # some rows
    python reproduce.py --seeds 1,2,3            # mean and spread over seeds
    python reproduce.py --report                 # rewrite TABLES.md from the records, no training
    python reproduce.py --quick                  # every row in smoke mode, into a separate folder

Stop it at any moment (Ctrl-C, kill) and run the same command again: rows with a record are
not rerun, a row that was cut off left nothing and runs again. A row whose training diverges is
recorded as failed, with the reason, and the run goes on.
"""
import argparse
import csv
import glob
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

from companion import cli

ROOT = os.path.dirname(os.path.abspath(__file__))
BOOK_TABLES = os.path.join(ROOT, "companion", "book_tables.csv")
SCRIPTS = {"mlp": "mlp_mnist.py", "cnn": "cnn_mnist.py", "rnn": "rnn_mnist.py"}
TITLES = {"mlp": "Table 1.3.2: MLP", "cnn": "Table 1.4.1: CNN", "rnn": "Table 1.5.1: SimpleRNN"}
TOLERANCE = 0.5  # percentage points: the goal for every row's test accuracy


def read_book_rows(path=BOOK_TABLES):
    """The book's rows, in order, as dicts of the CSV's columns (accuracies as floats)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    for row in rows:
        row["row"] = int(row["row"])
        row["train"] = float(row["train"])
        row["test"] = float(row["test"])
        row["id"] = f"{row['table']}-{row['row']:02d}"
    return rows


def parse_call(text, name):
    """'Dropout(0.45)' -> 0.45 for name 'Dropout'; None when text is not such a call."""
    prefix = f"{name}("
    if text.startswith(prefix) and text.endswith(")"):
        return text[len(prefix):-1]
    return None


def row_flags(row):
    """The script and its flags that run one book row."""
    flags = ["--optimizer", row["optimizer"].lower()]
    regularizer = row["regularizer"]
    if regularizer == "None":
        flags += ["--dropout", "0"]
    elif parse_call(regularizer, "Dropout") is not None:
        flags += ["--dropout", parse_call(regularizer, "Dropout")]
    elif parse_call(regularizer, "L2") is not None and row["table"] == "mlp":
        flags += ["--dropout", "0", "--l2", parse_call(regularizer, "L2")]
    else:
        raise ValueError(f"row {row['id']}: unknown regularizer {regularizer!r}")
    widths = row["layers"].split("-")
    if row["table"] == "mlp":
        flags += ["--hidden-units", row["layers"]]
        flags += ["--activation", "relu" if row["relu"] == "Yes" else "none"]
    elif row["table"] == "cnn":
        if len(set(widths)) != 1 or len(widths) != 3:
            raise ValueError(f"row {row['id']}: cnn_mnist.py has three Conv2D layers of equal "
                             f"filters, not {row['layers']}")
        flags += ["--filters", widths[0]]
    elif row["table"] == "rnn":
        flags += ["--units", row["layers"]]
    return SCRIPTS[row["table"]], flags


def row_dir(runs_dir, row, seed):
    return os.path.join(runs_dir, f"{row['id']}-seed{seed}")


def finished_record(runs_dir, row, seed):
    """(path, record) of the row's completed run, or None. A run folder exists only once all
    of its files are written, so finding record.json means the run finished."""
    paths = sorted(glob.glob(os.path.join(row_dir(runs_dir, row, seed), "*", "*", "record.json")))
    if not paths:
        return None
    with open(paths[0]) as f:
        return paths[0], json.load(f)


def failure(runs_dir, row, seed):
    path = os.path.join(row_dir(runs_dir, row, seed), "failed.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return None


def write_atomically(path, text):
    """Write `text` to `path` through a temporary file beside it, so a stop leaves the old file
    or the new one, never half of one."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as f:
        f.write(text)
    os.replace(f.name, path)


def run_row(runs_dir, row, seed, quick, verbose):
    """Run one (row, seed) to completion; return None on success, else the reason it failed."""
    script, flags = row_flags(row)
    command = [sys.executable, script, *flags, "--seed", str(seed),
               "--results-dir", row_dir(runs_dir, row, seed)]
    if quick:
        command.append("--dry-run")
    print("  $ python " + " ".join(command[1:]), flush=True)
    with tempfile.TemporaryFile("w+") as output:
        child = subprocess.Popen(command, cwd=ROOT, stdout=None if verbose else output,
                                 stderr=subprocess.STDOUT)
        try:
            returncode = child.wait()
        except BaseException:  # Ctrl-C or kill: stop the row; it leaves nothing and reruns
            stop_child(child)
            raise
        output.seek(0)
        lines = [line.strip() for line in output.read().splitlines() if line.strip()]
    if returncode != 0:
        last = lines[-1] if lines else "no output"
        return f"{script} exited with status {returncode}: {last}"
    found = finished_record(runs_dir, row, seed)
    if found is None:
        return f"{script} exited normally but wrote no record"
    status = found[1].get("status", "finished")
    return None if status == "finished" else status


def stop_child(child):
    """Stop the script as Ctrl-C would (it removes its unfinished files), then make sure.

    A terminal's Ctrl-C has reached the script already; `kill` of the runner has not, so the
    runner passes it on. The script ignores a second Ctrl-C while it cleans up.
    """
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=20)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def main(argv=None):
    parser = cli.new_parser(__doc__)
    parser.add_argument("--table", choices=sorted(SCRIPTS), action="append",
                        help="only this table (repeat for several); default all three")
    parser.add_argument("--rows", type=row_numbers, default=None, metavar="N,N",
                        help="only these row numbers within the selected tables, e.g. 3,5")
    parser.add_argument("--seeds", type=cli.seed_list, default="1", metavar="N,N",
                        help="seeds to run each row with, e.g. 1,2,3")
    parser.add_argument("--quick", action="store_true",
                        help="smoke mode: every run with --dry-run, into <results-dir>/tables-quick")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite TABLES.md and its figure from the records")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the rows recorded as failed")
    parser.add_argument("--verbose", action="store_true",
                        help="show each script's own output (progress bars)")
    parser.add_argument("--book-table", default=os.path.relpath(BOOK_TABLES), metavar="CSV",
                        help="the CSV of rows to reproduce")
    parser.add_argument("--results-dir", default="results", metavar="DIR",
                        help="where tables/ (the runs) and TABLES.md go")
    args = cli.parse(parser, argv)
    try:
        rows = read_book_rows(args.book_table)
    except (OSError, KeyError, ValueError) as error:
        parser.error(f"argument --book-table: cannot read {args.book_table!r} ({error})")
    rows = [row for row in rows if (not args.table or row["table"] in args.table)
            and (args.rows is None or row["row"] in args.rows)]
    if not rows:
        parser.error("no book row matches --table and --rows")
    for row in rows:
        try:
            row_flags(row)
        except ValueError as error:
            parser.error(str(error))

    suffix = "-quick" if args.quick else ""
    runs_dir = os.path.join(args.results_dir, "tables" + suffix)
    report_path = os.path.join(args.results_dir, f"TABLES{suffix.upper().replace('-', '_')}.md")
    if not args.report:
        stop_on_sigterm()
        try:
            run_all(rows, args.seeds, runs_dir, report_path, args)
        except KeyboardInterrupt:
            print("\nreproduce.py: stopped; run the same command again to carry on",
                  file=sys.stderr)
            sys.exit(130)
    write_report(read_book_rows(args.book_table), runs_dir, report_path, args.quick)
    print(f"Report: {report_path}")


def run_all(rows, seeds, runs_dir, report_path, args):
    todo = [(row, seed) for row in rows for seed in seeds]
    durations = {}  # table -> minutes of runs finished so far, to estimate the rest
    for number, (row, seed) in enumerate(todo, 1):
        label = f"[{number}/{len(todo)}] {row['id']} seed {seed}"
        found = finished_record(runs_dir, row, seed)
        failed = failure(runs_dir, row, seed)
        if found is not None and failed is None:
            durations.setdefault(row["table"], []).append(record_minutes(found[1]))
            print(f"{label}: done before ({os.path.dirname(found[0])})")
            continue
        if failed is not None and not args.retry_failed:
            print(f"{label}: failed before ({failed['reason']}); --retry-failed runs it again")
            continue
        if failed is not None:  # --retry-failed: clear the failed attempt first
            shutil.rmtree(row_dir(runs_dir, row, seed))
        print(f"{label}: running; {estimate(todo[number - 1:], durations, args.results_dir)}",
              flush=True)
        started = time.monotonic()
        reason = run_row(runs_dir, row, seed, args.quick, args.verbose)
        minutes = (time.monotonic() - started) / 60
        durations.setdefault(row["table"], []).append(minutes)
        if reason is None:
            record = finished_record(runs_dir, row, seed)[1]
            print(f"{label}: test accuracy {100 * record['test_accuracy']:.2f}% "
                  f"(book {row['test']:.2f}%), {minutes:.1f} min")
        else:
            failed = {"row": row["id"], "seed": seed, "reason": reason,
                      "when": datetime.now().isoformat(timespec="seconds")}
            write_atomically(os.path.join(row_dir(runs_dir, row, seed), "failed.json"),
                             json.dumps(failed, indent=2) + "\n")
            print(f"{label}: FAILED: {reason}")
        write_report(read_book_rows(args.book_table), runs_dir, report_path, args.quick)


def estimate(remaining, durations, results_dir):
    """'about 1:23 (h:mm) left': the mean minutes of this table's rows run so far, else those of
    the script's own runs under results/ (its default configuration), else unknown."""
    minutes, unknown = 0.0, 0
    for row, _ in remaining:
        known = durations.get(row["table"]) or default_run_minutes(results_dir, row["table"])
        if known:
            minutes += statistics.mean(known)
        else:
            unknown += 1
    text = f"about {int(minutes // 60)}:{int(minutes % 60):02d} (h:mm) left"
    return text + (f", plus {unknown} rows of unknown length" if unknown else "")


def default_run_minutes(results_dir, table):
    stem = os.path.splitext(SCRIPTS[table])[0]
    minutes = []
    for path in glob.glob(os.path.join(results_dir, stem, "*", "record.json")):
        with open(path) as f:
            record = json.load(f)
        if not record.get("dry_run"):
            minutes.append(record_minutes(record))
    return minutes


def record_minutes(record):
    started = datetime.fromisoformat(record["started"])
    finished = datetime.fromisoformat(record["finished"])
    return (finished - started).total_seconds() / 60


def stop_on_sigterm():
    """`kill` stops the runner as Ctrl-C does: the running row is stopped and left unrecorded."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def row_numbers(text):
    try:
        numbers = {int(part) for part in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected row numbers like 3,5, got {text!r}") from None
    if min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"row numbers start at 1, got {text!r}")
    return numbers


def summarize(rows, runs_dir):
    """For each book row, what its records say: seeds, mean and spread, minutes, paths."""
    summaries = []
    for row in rows:
        runs, failures = [], []
        for folder in sorted(glob.glob(os.path.join(runs_dir, f"{row['id']}-seed*"))):
            seed = int(folder.rsplit("-seed", 1)[1])
            found = finished_record(runs_dir, row, seed)
            failed = failure(runs_dir, row, seed)
            if failed is not None:
                failures.append((seed, failed["reason"]))
            elif found is not None:
                runs.append((seed, found[0], found[1]))
        summary = {"row": row, "seeds": [seed for seed, _, _ in runs], "failures": failures,
                   "paths": [path for _, path, _ in runs]}
        if runs:
            tests = [100 * record["test_accuracy"] for _, _, record in runs]
            trains = [100 * record["train_accuracy"] for _, _, record in runs]
            summary.update(
                test=statistics.mean(tests), test_spread=spread(tests),
                train=statistics.mean(trains), train_spread=spread(trains),
                minutes=sum(record_minutes(record) for _, _, record in runs))
        summaries.append(summary)
    return summaries


def spread(values):
    return statistics.stdev(values) if len(values) > 1 else None


def with_spread(mean, spread_value):
    return f"{mean:.2f}" if spread_value is None else f"{mean:.2f} ± {spread_value:.2f}"


def write_report(rows, runs_dir, report_path, quick):
    """TABLES.md and book-vs-measured.png, from the records alone."""
    summaries = summarize(rows, runs_dir)
    lines = ["# Chapter 1's tables: the book's accuracies and this project's", ""]
    if quick:
        lines += ["**Smoke mode (--quick): 2,048 training digits, one epoch. These numbers say "
                  "that the runner works, not what the models reach.**", ""]
    lines += [
        "Made by `python reproduce.py` (regenerate without training: `python reproduce.py "
        "--report`). Measured accuracies are in percent, mean ± standard deviation over the "
        "seeds listed; \"train\" is the last epoch's accuracy reported by `fit` (dropout active), "
        f"as in the book. Δ = measured test − book test; ✓ marks |Δ| ≤ {TOLERANCE}. The Layers "
        "column is read as the hidden layers' widths (see README).", ""]
    findings = read_findings(report_path)
    for table in SCRIPTS:
        table_rows = [s for s in summaries if s["row"]["table"] == table]
        if not table_rows:
            continue
        lines += [f"## {TITLES[table]}", "",
                  "| # | Layers | Regularizer | Optimizer | ReLU | Book train | Book test | "
                  "Train | Test | Δ test | Seeds | Minutes | Record |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in table_rows:
            row = s["row"]
            cells = [str(row["row"]), row["layers"], row["regularizer"], row["optimizer"],
                     row["relu"], f"{row['train']:.2f}", f"{row['test']:.2f}"]
            if s["seeds"]:
                delta = s["test"] - row["test"]
                mark = " ✓" if abs(delta) <= TOLERANCE else ""
                links = ", ".join(f"[{seed}]({os.path.relpath(path, os.path.dirname(report_path))})"
                                  for seed, path in zip(s["seeds"], s["paths"]))
                cells += [with_spread(s["train"], s["train_spread"]),
                          with_spread(s["test"], s["test_spread"]), f"{delta:+.2f}{mark}",
                          ",".join(map(str, s["seeds"])), f"{s['minutes']:.1f}", links]
            else:
                cells += ["-", "-", "-", "-", "-", "-" if s["failures"] else "not run"]
            if s["failures"]:
                cells[-1] += " failed: " + "; ".join(f"seed {seed}: {reason}"
                                                     for seed, reason in s["failures"])
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        ids = {s["row"]["id"]: s["row"]["row"] for s in table_rows}
        notes = [(", ".join(str(ids[row]) for row in finding["rows"] if row in ids),
                  finding["finding"]) for finding in findings
                 if any(row in ids for row in finding["rows"])]
        if notes:
            lines += ["Findings:", ""] + [f"- Rows {rows}: {text}" for rows, text in notes] + [""]
    measured = [s for s in summaries if s["seeds"]]
    if measured:
        figure_path = os.path.splitext(report_path)[0] + ".png"
        plot_book_vs_measured(measured, figure_path)
        within = sum(abs(s["test"] - s["row"]["test"]) <= TOLERANCE for s in measured)
        lines += [f"{within} of {len(measured)} measured rows are within {TOLERANCE} points of "
                  f"the book's test accuracy.", "",
                  f"![Book vs measured test accuracy]({os.path.basename(figure_path)})", ""]
    write_atomically(report_path, "\n".join(lines))


def read_findings(report_path):
    """Explanations written by hand in tables-findings.json beside the report:
    [{"rows": ["mlp-02", "mlp-03"], "finding": "why they differ"}, ...]."""
    path = os.path.join(os.path.dirname(report_path) or ".", "tables-findings.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


def plot_book_vs_measured(summaries, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"mlp": "tab:blue", "cnn": "tab:green", "rnn": "tab:orange"}
    figure, axes = plt.subplots(figsize=(6.5, 6))
    book = [s["row"]["test"] for s in summaries]
    measured = [s["test"] for s in summaries]
    low = math.floor(min(book + measured)) - 0.5
    high = min(100.0, math.ceil(max(book + measured)) + 0.2)
    axes.fill_between([low, high], [low - TOLERANCE, high - TOLERANCE],
                      [low + TOLERANCE, high + TOLERANCE], color="0.9",
                      label=f"within ±{TOLERANCE} points")
    axes.plot([low, high], [low, high], color="0.5", linewidth=1)
    for table, color in colors.items():
        points = [s for s in summaries if s["row"]["table"] == table]
        if not points:
            continue
        axes.errorbar([s["row"]["test"] for s in points], [s["test"] for s in points],
                      yerr=[s["test_spread"] or 0 for s in points], fmt="o", color=color,
                      label=TITLES[table], capsize=3)
        for s in points:
            axes.annotate(str(s["row"]["row"]), (s["row"]["test"], s["test"]), fontsize=7,
                          xytext=(4, 2), textcoords="offset points")
    axes.set(xlim=(low, high), ylim=(low, high), xlabel="book's test accuracy, %",
             ylabel="measured test accuracy, %", title="Chapter 1 tables: book vs measured")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


if __name__ == "__main__":
    cli.run_main(main)
