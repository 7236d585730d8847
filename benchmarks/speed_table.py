"""Seconds per epoch of each listing three ways: Keras' own path (a default run), `--fast`, and
the book's own script, on TensorFlow and JAX, in interleaved rounds on one machine.

Each measurement is a fresh process. The listings run as a reader runs them
(`python mlp_mnist.py --epochs N [--fast]`) and their record gives each epoch's seconds. The
book's script (the book repository's file, unchanged, from a checkout given with --book-repo)
runs with its `mnist.load_data()` served from a Keras cache made here, and a timing callback
added to its `fit` that stops it after N epochs. Per configuration: the median epoch after the
first (which compiles) over every round, and the first epoch's own seconds.

A setting of --fast pays where Keras' own median over --fast's is at least PAYS (1.25);
speed.FAST may turn on only such settings, and tests/test_speed_table.py holds it to this record.
Writes results/speed/speed.json (the measurements) and results/speed/README.md, and puts the
table into docs/speed.md between its markers.

    python benchmarks/speed_table.py --book-repo ../Advanced-Deep-Learning-with-Keras
    python benchmarks/speed_table.py --listings mlp --rounds 1    # a quick look
"""
import argparse
import json
import os
import re
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from backend_check import SCRIPTS, run_listing  # noqa: E402  (benchmarks/, beside this file)

BOOK_FILES = {"mlp": "mlp-mnist-1.3.2.py", "cnn": "cnn-mnist-1.4.1.py",
              "rnn": "rnn-mnist-1.5.1.py"}
BOOK_FOLDER = "chapter1-keras-quick-tour"
EPOCHS = {"mlp": 4, "cnn": 3, "rnn": 3}  # the first compiles; the rest are timed
MODES = ("keras", "fast", "book")
PAYS = 1.25
OUTPUT = os.path.join(ROOT, "results", "speed")
DOC = os.path.join(ROOT, "docs", "speed.md")
BEGIN, END = "<!-- speed table: benchmarks/speed_table.py -->", "<!-- end of speed table -->"


# --- the book's script, timed without changing it -------------------------------------------

def book_worker(path, epochs):
    """Run the book's file with a timing callback added to its fit(), stopping after `epochs`;
    print one JSON line of the epochs' seconds."""
    import keras

    seconds = []

    class Timing(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)
            if len(seconds) >= epochs:
                self.model.stop_training = True

    fit = keras.Model.fit

    def timed_fit(model, *args, **kwargs):
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), Timing()]
        kwargs["verbose"] = 0
        return fit(model, *args, **kwargs)

    from keras.src.datasets import mnist as keras_mnist

    # the benchmark's hooks, never on a reader's path: the timing callback, and load_data()'s
    # file from the cache made here (its digests checked by companion/mnist.py, not Keras' hash
    # of the original download's bytes)
    keras.Model.fit = timed_fit
    cached = os.path.join(os.environ["KERAS_HOME"], "datasets", "mnist.npz")
    keras_mnist.get_file = lambda *args, **kwargs: cached
    runpy.run_path(path, run_name="__main__")
    print(json.dumps({"epoch_seconds": seconds}))


def keras_cache(folder):
    """A KERAS_HOME whose datasets/mnist.npz is the MNIST the scripts load (Keras' own format),
    so that the book's mnist.load_data() needs no network."""
    import numpy as np

    from companion import mnist

    (x_train, y_train), (x_test, y_test), _ = mnist.load_data()
    os.makedirs(os.path.join(folder, "datasets"), exist_ok=True)
    np.savez(os.path.join(folder, "datasets", "mnist.npz"), x_train=x_train, y_train=y_train,
             x_test=x_test, y_test=y_test)
    return folder


# --- one measurement, in its own process -----------------------------------------------------

def measure(listing, backend, mode, epochs, scratch, book_repo, keras_home):
    """Epoch seconds of one configuration, or an error line."""
    if mode == "book":
        return measure_book(listing, backend, epochs, scratch, book_repo, keras_home)
    record, error = run_listing(backend, listing,
                                ["--epochs", str(epochs), *(["--fast"] * (mode == "fast"))],
                                scratch)
    if record is None:
        return {"error": error}
    return {"epoch_seconds": [epoch["seconds"] for epoch in record["epochs"]],
            "settings": {key: record["hyperparameters"][key]
                         for key in ("jit_compile", "steps_per_execution")},
            "execution": record["execution"], "machine": record["machine"],
            "versions": record["versions"]}


def measure_book(listing, backend, epochs, scratch, book_repo, keras_home):
    """The book's own script, timed by book_worker in a process of its own."""
    path = os.path.abspath(os.path.join(book_repo, BOOK_FOLDER, BOOK_FILES[listing]))
    done = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--book-worker", path, str(epochs)],
        capture_output=True, text=True, cwd=scratch,  # its plot_model writes into the folder
        env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2",
             "KERAS_HOME": keras_home, "PYTHONPATH": ROOT})
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {last[:200]}"}
    return json.loads(lines[-1])


def summarize(runs):
    """A configuration's rounds -> its median epoch after the first, and its first epochs."""
    failed = [run for run in runs if "error" in run or len(run["epoch_seconds"]) < 2]
    if failed:
        return {"error": failed[0].get("error", "fewer than two epochs")}
    after_first = [s for run in runs for s in run["epoch_seconds"][1:]]
    return {"median": statistics.median(after_first),
            "first": statistics.median(run["epoch_seconds"][0] for run in runs),
            "rounds": len(runs)}


def rows(measurements):
    """The report's rows: per listing and backend, each mode's summary and the ratios."""
    table = []
    for listing in SCRIPTS:
        for backend in ("tensorflow", "jax"):
            key = f"{listing}/{backend}"
            if key not in measurements:
                continue
            summary = {mode: summarize(measurements[key][mode])
                       for mode in MODES if measurements[key].get(mode)}
            keras_own, fast = summary.get("keras", {}), summary.get("fast", {})
            speedup = keras_own["median"] / fast["median"] \
                if "median" in keras_own and "median" in fast else None
            table.append({"listing": listing, "backend": backend, **summary,
                          "fast_speedup": speedup,
                          "fast_pays": speedup is not None and speedup >= PAYS,
                          "fast_settings": fast_settings_of(measurements[key].get("fast", []))})
    return table


def fast_settings_of(runs):
    """What --fast turned on in these runs, from their records."""
    for run in runs:
        if "settings" in run:
            return {**run["settings"], "fused": run["execution"]["fused"]}
    return None


def cell(summary, field):
    if not summary:
        return "not run"
    if "error" in summary:  # a run stopped (killed: exit -9) did not finish its epochs
        return "stopped" if summary["error"].startswith(("exit -9", "exit 137")) else "failed"
    return f"{summary[field]:.2f}"


def readers_command(command):
    """The command with the book repository's folder, a path of the measuring machine, as a
    placeholder a reader fills in."""
    return re.sub(r"(--book-repo[ =])\S+", r"\1DIR", command)


def markdown(record):
    """The generated table, as docs/speed.md shows it."""
    lines = [f"Made by `{readers_command(record['command'])}` on {record['date']}: "
             f"{record['machine']}, "
             f"{record['cores']} cores, load average {record['load'][0]:.1f} at the start and "
             f"{record['load'][1]:.1f} at the end; {record['rounds']} interleaved round(s), each "
             f"configuration a fresh process; seconds per epoch are the median after the first "
             f"epoch, \"first\" the first epoch's own (it compiles). Keras {record['keras']}. "
             f"Ratios compare columns of the same run: Keras' own / `--fast` is --fast's "
             f"speed-up (it pays at {PAYS} or more); book / Keras' own is the book's script "
             f"against a default run. \"stopped\": the run was stopped before its epochs ended "
             f"(killed; the record keeps its exit status).", "",
             "| listing | backend | Keras' own, s | first | `--fast`, s | first | "
             "--fast ran with | Keras' own / --fast | pays | book's script, s | first | "
             "book / Keras' own |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in record["rows"]:
        keras_own, fast, book = row.get("keras"), row.get("fast"), row.get("book")
        settings = row["fast_settings"]
        turned_on = "-" if settings is None else (
            f"{settings['steps_per_execution']} steps per call"
            + (", one scan" if settings["fused"] else ""))
        ratio = f"{row['fast_speedup']:.2f}" if row["fast_speedup"] else "-"
        book_ratio = f"{book['median'] / keras_own['median']:.2f}" \
            if book and "median" in book and keras_own and "median" in keras_own else "-"
        lines.append(f"| {row['listing']} | {row['backend']} | {cell(keras_own, 'median')} | "
                     f"{cell(keras_own, 'first')} | {cell(fast, 'median')} | "
                     f"{cell(fast, 'first')} | {turned_on} | {ratio} | "
                     f"{'yes' if row['fast_pays'] else 'no'} | {cell(book, 'median')} | "
                     f"{cell(book, 'first')} | {book_ratio} |")
    return "\n".join(lines) + "\n"


def write_doc(table_text, path=DOC):
    """Replace docs/speed.md's generated table (between its markers) with `table_text`."""
    from companion.files import write_atomically

    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    write_atomically(path, f"{head}{BEGIN}\n{table_text}{END}{tail}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or " ").splitlines()[0])
    parser.add_argument("--book-repo", metavar="DIR",
                        help="a checkout of PacktPublishing/Advanced-Deep-Learning-with-Keras; "
                             "without it the book's column is not run")
    parser.add_argument("--listings", default="mlp,cnn,rnn")
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", default=OUTPUT, help="folder for speed.json and README.md")
    parser.add_argument("--no-doc", action="store_true", help="leave docs/speed.md as it is")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite README.md and docs/speed.md's table from the record "
                             "(speed.json) in --output")
    parser.add_argument("--book-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.book_worker:
        book_worker(args.book_worker[0], int(args.book_worker[1]))
        return
    if args.report:
        with open(os.path.join(args.output, "speed.json"), encoding="utf-8") as f:
            write_reports(json.load(f), args)
        return
    listings = [name for name in args.listings.split(",") if name]
    backends = [name for name in args.backends.split(",") if name]
    if set(listings) - set(SCRIPTS) or set(backends) - {"tensorflow", "jax"}:
        parser.error("--listings takes mlp,cnn,rnn and --backends tensorflow,jax")
    if args.book_repo and not os.path.isdir(os.path.join(args.book_repo, BOOK_FOLDER)):
        parser.error(f"--book-repo: no {BOOK_FOLDER}/ in {args.book_repo}")
    modes = [mode for mode in MODES if mode != "book" or args.book_repo]
    measurements = {f"{listing}/{backend}": {mode: [] for mode in modes}
                    for listing in listings for backend in backends}
    load_before = os.getloadavg()[0]
    started = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        keras_home = keras_cache(os.path.join(scratch, "keras")) if args.book_repo else None
        for round_index in range(args.rounds):
            for listing in listings:
                for backend in backends:
                    for mode in modes:
                        run = measure(listing, backend, mode, EPOCHS[listing], scratch,
                                      args.book_repo, keras_home)
                        measurements[f"{listing}/{backend}"][mode].append(run)
                        shown = run.get("error") or ", ".join(
                            f"{s:.2f}" for s in run["epoch_seconds"])
                        print(f"round {round_index + 1} {listing} {backend} {mode}: {shown}",
                              flush=True)
    import keras  # only for its version, once the runs are done

    from companion.environment import cpu_info

    record = {
        "command": "python benchmarks/speed_table.py " + " ".join(
            part for part in (argv if argv is not None else sys.argv[1:])),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": cpu_info()["processor"], "vector_extensions": cpu_info()["vector_extensions"],
        "cores": os.cpu_count(), "load": [load_before, os.getloadavg()[0]],
        "minutes": round((time.time() - started) / 60, 1), "rounds": args.rounds,
        "keras": keras.__version__, "epochs": {name: EPOCHS[name] for name in listings},
        "pays": PAYS, "measurements": measurements}
    record["rows"] = rows(measurements)
    from companion.files import write_atomically

    os.makedirs(args.output, exist_ok=True)
    write_atomically(os.path.join(args.output, "speed.json"), json.dumps(record, indent=1) + "\n")
    write_reports(record, args)


def write_reports(record, args):
    """README.md beside the record, and docs/speed.md's table (unless --no-doc)."""
    from companion.files import write_atomically

    table_text = markdown(record)
    write_atomically(os.path.join(args.output, "README.md"),
                     "# Keras' own path, --fast and the book's script: seconds per epoch\n\n"
                     + table_text)
    if not args.no_doc:
        write_doc(table_text)
    print(table_text)


if __name__ == "__main__":
    main()
