"""Reproduce the chapter's accuracy tables (1.3.2, 1.4.1, 1.5.1) with the scripts' own code.

Every row of the book's tables (tables/book_tables.csv) becomes one command line of
mlp_mnist.py, cnn_mnist.py or rnn_mnist.py with the book's settings, under a protocol for what
the book leaves open (--protocol; the listings' own settings by default). Each (row, seed) runs
as its own process and leaves its own record under results/tables[-<protocol>]/.
results/TABLES.md then sets the means over each row's seeds beside the book's accuracies.

    python reproduce.py --seeds 1,2,3            # all 26 rows, the listings' settings
    python reproduce.py --protocol keras2-batch32 --seeds 1,2,3   # another protocol
    python reproduce.py --table mlp --rows 3,5   # some rows
    python reproduce.py --report                 # rewrite the reports from the records only
    python reproduce.py --quick                  # every row in smoke mode, into a separate folder
    python reproduce.py --seeds 1,2,3 --jobs 8   # 8 rows at once: a GPU has room for them
    python reproduce.py --seeds 1,2,3 --fast     # every row with the scripts' --fast

Minutes per row on the machines used so far are in results/TABLES.md ("Runs").

Stop it at any moment (Ctrl-C, kill) and run the same command again: rows with a record are
not rerun, a row that was cut off left nothing and runs again. A row whose training diverges is
recorded as failed, with the reason, and the run goes on.
"""
import argparse
import os

from companion import cli, keras_setup, lifecycle  # isort: skip
from tables.book_tables import BOOK_TABLES, LISTING, PROTOCOLS, SCRIPTS  # isort: skip


def build_parser():
    parser = cli.new_parser(__doc__)
    parser.add_argument("--table", choices=sorted(SCRIPTS), action="append",
                        help="only this table (repeat for several); default all three")
    parser.add_argument("--rows", type=row_numbers, default=None, metavar="N,N",
                        help="only these row numbers within the selected tables, e.g. 3,5")
    parser.add_argument("--seeds", type=cli.seed_list, default="1", metavar="N,N",
                        help="seeds to run each row with, e.g. 1,2,3")
    parser.add_argument("--protocol", choices=list(PROTOCOLS), default=LISTING,
                        help="how every row is trained: " + "; ".join(
                            f"{name}: {protocol['about']}" for name, protocol in PROTOCOLS.items()))
    parser.add_argument("--fast", action="store_true",
                        help="train every row with the scripts' --fast (the speed settings "
                             "measured to pay on this backend and device, docs/speed.md); "
                             "without it each row is Keras' own path, as its printed command "
                             "line says")
    parser.add_argument("--quick", action="store_true",
                        help="smoke mode: every run with --dry-run, into "
                             "<results-dir>/tables[-<protocol>]-quick")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite TABLES.md and its figure from the records")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the rows recorded as failed")
    parser.add_argument("--jobs", type=cli.device_count, default=1, metavar="N",
                        help="rows trained at once, each in its own process (for a GPU or a "
                             "many-core machine; on 2 cores 1 is fastest)")
    parser.add_argument("--verbose", action="store_true",
                        help="show each script's own output (progress bars)")
    parser.add_argument("--book-table", metavar="CSV",
                        help="the CSV of rows to reproduce (default: tables/book_tables.csv)")
    parser.add_argument("--results-dir", default="results", metavar="DIR",
                        help="where tables/ (the runs) and TABLES.md go")
    return parser


def row_numbers(text):
    try:
        numbers = {int(part) for part in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected row numbers like 3,5, got {text!r}") from None
    if min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"row numbers start at 1, got {text!r}")
    return numbers


if __name__ == "__main__":  # the flags are checked before anything heavier is imported
    # Ctrl-C stops the runner even where it was started with it ignored, as stop_on_sigterm()
    lifecycle.stop_cleanly_while_starting(even_if_ignored=True)
    cli.parse(build_parser())

import glob
import importlib.util
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

from companion import errors
from companion.files import write_atomically
from tables import processes, protocol_evidence, tables_report
from tables.book_tables import (
    failure,
    finished_record,
    protocol_tables,
    read_book_rows,
    row_dir,
    row_flags,
    table_runs_folder,
)
from tables.tables_report import record_minutes

ROOT = os.path.dirname(os.path.abspath(__file__))


def hold_results_dir(results_dir):
    """Take the results directory for this runner alone: an advisory lock on a file in it,
    which the kernel releases when the runner dies, however it dies. On POSIX each script the
    runner starts inherits it, so a script left running by a `kill -9` of its runner still
    holds the directory (Windows: tables/processes.py); a new runner waits for nothing but
    refuses, in one line."""
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, ".reproduce.lock")
    try:  # never through a symbolic link: the lock is truncated, and must be this file
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as error:
        kind = "a symbolic link" if os.path.islink(path) else \
            "a folder" if os.path.isdir(path) else (error.strerror or "unusable")
        raise errors.UserError(f"{path} is {kind}, where reproduce.py keeps its lock file; "
                               f"remove it and run again") from None
    try:
        processes.lock_exclusively(descriptor)
    except processes.LockHeld:
        holder = os.read(descriptor, 32).decode(errors="replace").strip() or "?"
        os.close(descriptor)
        raise errors.UserError(f"another reproduce.py (process {holder}, or a row it started) is "
                            f"running rows in {results_dir}; wait for it to finish, or stop it "
                            f"and run this again") from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, str(os.getpid()).encode())
    return descriptor


class RowRun:
    """One (row, seed) running as its own process; finish() waits for it and returns None on
    success, else the reason it failed."""

    def __init__(self, runs_dir, row, seed, args, lock, env):
        self.runs_dir, self.row, self.seed = runs_dir, row, seed
        self.script, flags = row_flags(row, args.protocol)
        # --results-dir=PATH: a path that starts with '-' stays the flag's value
        arguments = [*flags, "--seed", str(seed), f"--results-dir={row_dir(runs_dir, row, seed)}"]
        arguments += ["--fast"] * args.fast + ["--dry-run"] * args.quick
        print(f"  $ python {self.script} " + " ".join(arguments), flush=True)
        self.output = tempfile.TemporaryFile("w+")
        self.started = time.monotonic()
        # run from the caller's directory, as the runner, so that a relative --results-dir
        # means the same folder to both
        self.child = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, self.script), *arguments],
            stdout=None if args.verbose else self.output, stderr=subprocess.STDOUT,
            env=env, **processes.child_options(lock))

    def finish(self):
        returncode = self.child.wait()
        self.minutes = (time.monotonic() - self.started) / 60
        self.output.seek(0)
        lines = [line.strip() for line in self.output.read().splitlines() if line.strip()]
        self.output.close()
        if returncode != 0:
            last = lines[-1] if lines else "no output"
            return f"{self.script} exited with status {returncode}: {last}"
        found = finished_record(self.runs_dir, self.row, self.seed)
        if found is None:
            return f"{self.script} exited normally but wrote no record"
        status = found[1].get("status", "finished")
        return None if status == "finished" else status


def stop_child(child):
    """Stop the script as Ctrl-C would (it removes its unfinished files), then make sure.

    A terminal's Ctrl-C has reached the script already; `kill` of the runner has not, so the
    runner passes it on. The script ignores a second Ctrl-C while it cleans up.
    """
    if child.poll() is None:
        processes.ask_to_stop(child)
    try:
        child.wait(timeout=20)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def main(argv=None):
    parser = build_parser()
    args = cli.parse(parser, argv)
    backend = keras_setup.configured_backend()
    if not args.report and importlib.util.find_spec(backend) is None:  # every row would fail
        parser.error(f"the Keras backend {backend!r} needs the package {backend!r}, which is not "
                     f"installed (pip install {backend}), or set KERAS_BACKEND=tensorflow")
    args.book_table = args.book_table or BOOK_TABLES
    try:
        rows = read_book_rows(args.book_table)
    except (OSError, KeyError, ValueError) as error:
        parser.error(f"argument --book-table: cannot read {args.book_table!r} ({error})")
    trained = protocol_tables(args.protocol)
    if args.table and not set(args.table) <= set(trained):
        parser.error(f"argument --table: protocol {args.protocol} trains only the "
                     f"{', '.join(trained)} table")
    rows = [row for row in rows if row["table"] in (args.table or trained)
            and (args.rows is None or row["row"] in args.rows)]
    if not rows:
        parser.error("no book row matches --table and --rows")
    for row in rows:
        try:
            row_flags(row, args.protocol)
        except ValueError as error:
            parser.error(str(error))

    if not args.report:
        stop_on_sigterm()
        lock = hold_results_dir(args.results_dir)
        try:
            failed = run_all(rows, args.seeds, args, lock)
        except KeyboardInterrupt as stop:  # lifecycle.Stopped for kill, SIGHUP, SIGQUIT
            what, status = lifecycle.stopped_by(getattr(stop, "signum", signal.SIGINT))
            print(f"\nreproduce.py: {what}; run the same command again to carry on",
                  file=sys.stderr)
            sys.exit(status)
    print(f"Report: {write_reports(args)}")
    if not args.report and failed:
        print(f"reproduce.py: {failed} of {len(rows) * len(args.seeds)} runs failed (their "
              f"reasons are above); the others are kept", file=sys.stderr)
        sys.exit(1)


def run_all(rows, seeds, args, lock):
    """Run every row and seed not finished before; return how many have failed."""
    todo = [(row, seed) for row in rows for seed in seeds]
    failed = 0
    waiting = []  # (label, row, seed, runs folder) still to run, in order
    for number, (row, seed) in enumerate(todo, 1):
        label = f"[{number}/{len(todo)}] {row['id']} seed {seed}"
        runs_dir = table_runs_folder(args.results_dir, args.protocol, row["table"], args.quick)
        found = finished_record(runs_dir, row, seed)
        failed_before = failure(runs_dir, row, seed)
        if found is not None and failed_before is None:
            print(f"{label}: done before ({os.path.dirname(found[0])})")
        elif failed_before is not None and not args.retry_failed:
            print(f"{label}: failed before ({failed_before['reason']}); --retry-failed runs it "
                  f"again")
            failed += 1
        else:
            if failed_before is not None:  # --retry-failed: clear the failed attempt first
                shutil.rmtree(row_dir(runs_dir, row, seed))
            waiting.append((label, row, seed, runs_dir))
    env = child_environment(args.jobs)
    running = {}  # process id -> (label, RowRun)
    try:
        while waiting or running:
            while waiting and len(running) < args.jobs:
                label, row, seed, runs_dir = waiting.pop(0)
                left = [(row, seed)] + [(r, s) for _, r, s, _ in waiting] + \
                    [(run.row, run.seed) for _, run in running.values()]
                remaining = estimate(left, args)
                print(f"{label}: running; {remaining}", flush=True)
                run = RowRun(runs_dir, row, seed, args, lock, env)
                running[run.child.pid] = (label, run)
            label, run = running.pop(wait_for_any(running))
            reason = run.finish()
            failed += reason is not None
            report_row(label, run, reason)
            write_reports(args)
        return failed
    except BaseException:  # Ctrl-C or kill: stop the rows; each leaves nothing and reruns
        for _, run in running.values():
            stop_child(run.child)
        raise


def wait_for_any(running):
    """The process id of a row's script that has ended (left for RowRun.finish to reap)."""
    while True:
        for pid, (_, run) in running.items():
            if run.child.poll() is not None:
                return pid
        time.sleep(0.2)


def report_row(label, run, reason):
    if reason is None:
        record = finished_record(run.runs_dir, run.row, run.seed)[1]
        print(f"{label}: test accuracy {100 * record['test_accuracy']:.2f}% "
              f"(book {run.row['test']:.2f}%), {run.minutes:.1f} min", flush=True)
    else:
        failed = {"row": run.row["id"], "seed": run.seed, "reason": reason,
                  "when": datetime.now().isoformat(timespec="seconds")}
        write_atomically(os.path.join(row_dir(run.runs_dir, run.row, run.seed), "failed.json"),
                         json.dumps(failed, indent=2) + "\n")
        print(f"{label}: FAILED: {reason}", flush=True)


def child_environment(jobs):
    """The scripts' environment. Several rows at once on one GPU must share its memory, which
    JAX and TensorFlow otherwise take almost whole for the first process to start."""
    env = dict(os.environ)
    if jobs > 1:
        env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 / jobs:.3f}")
        env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return env


KEPT_ON_WRITE_ERROR = "the rows that finished are kept; run the same command again to carry on"


def write_reports(args):
    """TABLES.md (the listing, the chosen protocol and the one this command ran); returns its
    path. The protocol experiment's page is its own command's (protocol_experiment.py, in
    results/investigations/protocols/): a reader's table run leaves it alone."""
    rows = read_book_rows(args.book_table)
    return tables_report.write_tables_report(
        rows, args.results_dir, args.quick, also=args.protocol,
        evidence=lambda row: protocol_evidence.evidence(row, rows, args.results_dir))


def estimate(remaining, args):
    """'about 1:23 (h:mm) left': for each row, the mean minutes of its own finished runs under
    this protocol, else of its table's, else of the script's own runs under results/ (its
    default configuration), else unknown; divided among --jobs rows at a time."""
    minutes, unknown = 0.0, 0
    for row, _ in remaining:
        # paths are escaped before their patterns are added: a folder named res[1] is a path
        runs_dir = glob.escape(table_runs_folder(args.results_dir, args.protocol, row["table"],
                                                 args.quick))
        known = (recorded_minutes(os.path.join(runs_dir, f"{row['id']}-seed*", "*"))
                 or recorded_minutes(os.path.join(runs_dir, f"{row['table']}-*", "*"))
                 or recorded_minutes(glob.escape(os.path.join(
                     args.results_dir, os.path.splitext(SCRIPTS[row["table"]])[0])),
                     full_only=True))
        if known:
            minutes += statistics.mean(known)
        else:
            unknown += 1
    minutes /= args.jobs
    text = f"about {int(minutes // 60)}:{int(minutes % 60):02d} (h:mm) left"
    if unknown:
        text += f", plus {unknown} {'row' if unknown == 1 else 'rows'} of unknown length"
    return text


def recorded_minutes(folder, full_only=False):
    """Minutes of the runs recorded in folder/*/record.json (folder is a glob pattern, its
    paths escaped); full_only leaves out --dry-run runs."""
    minutes = []
    for path in glob.glob(os.path.join(folder, "*", "record.json")):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        if not (full_only and record.get("dry_run")):
            minutes.append(record_minutes(record))
    return minutes


def stop_on_sigterm():
    """`kill`, a closed terminal (SIGHUP, unless started with nohup) and Ctrl-\\ stop the runner
    as Ctrl-C does: the running row is stopped and left unrecorded. Ctrl-C stops it even where
    it was started with SIGINT ignored (`cmd &` in a script)."""
    def handler(signum, frame):
        raise lifecycle.Stopped(signum)

    for stop in lifecycle.ENDING:
        if lifecycle.handled_at_launch(stop, lifecycle.SIGNALS_AT_LAUNCH.get(
                stop, signal.getsignal(stop))):
            signal.signal(stop, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    lifecycle.run_main(main, kept_on_write_error=KEPT_ON_WRITE_ERROR)
