"""Each listing on each installed Keras backend, a few epochs each: does it run, where, how well
and how fast? Writes a Markdown table (card, backend, test accuracy, seconds per epoch).

Made for a lent GPU machine that has JAX and PyTorch but no TensorFlow and no network: MNIST
then comes from a Keras cache file ($KERAS_HOME/datasets/mnist.npz). It runs the scripts
themselves, each in its own process, and reads their records, so what it reports is what a
reader's run does. On a CPU it runs too (slowly, without --quick).

    python benchmarks/backend_check.py                    # 3 epochs of each listing per backend
    python benchmarks/backend_check.py --backends jax,torch --output results/gpu/h200.md
    python benchmarks/backend_check.py --compare-paths    # Keras' own path, then --fast
    python benchmarks/backend_check.py --epochs 0         # each listing's own epochs
    python benchmarks/backend_check.py --quick            # smoke mode: --dry-run runs
"""
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from companion.cli import OneLineParser  # noqa: E402  (the scripts' one-line errors)
from companion.files import write_atomically  # noqa: E402

SCRIPTS = {"mlp": "mlp_mnist.py", "cnn": "cnn_mnist.py", "rnn": "rnn_mnist.py"}
BACKENDS = ("tensorflow", "jax", "torch")


def card_name():
    """The first NVIDIA card's name, or else the CPU's."""
    try:
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                               capture_output=True, text=True, timeout=30).stdout.split("\n")
        if names[0].strip():
            return names[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:  # no Keras import here: the check must start anywhere (Linux names the CPU here)
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + " (CPU)"
    except OSError:  # macOS, Windows
        pass
    return (platform.processor() or platform.machine()) + " (CPU)"


def run_listing(backend, listing, flags, results_dir):
    """Run one listing as a reader does, in its own process on `backend`: (its record, None),
    or (None, 'exit N: the last line it printed')."""
    command = [sys.executable, os.path.join(ROOT, SCRIPTS[listing]), "--results-dir", results_dir,
               *flags]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "KERAS_BACKEND": backend})
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"exit {done.returncode}: {last[:200]}"
    folder = lines[-1].removeprefix("Results: ")
    with open(os.path.join(folder, "record.json"), encoding="utf-8") as f:
        return json.load(f), None


def run_one(backend, listing, epochs, quick, results_dir, extra=()):
    """Train one listing on one backend; returns the table's cells."""
    flags = ["--dry-run"] if quick else ["--epochs", str(epochs)] if epochs else []
    record, error = run_listing(backend, listing, [*flags, *extra], results_dir)
    if record is None:
        return [backend, SCRIPTS[listing], " ".join(extra) or "defaults", "-", "-", "-", "-",
                f"failed ({error})"]
    seconds = [epoch["seconds"] for epoch in record["epochs"]]
    after_first = seconds[1:] or seconds  # the first epoch includes compiling
    execution = record.get("execution", {})
    calls = f"{execution.get('steps_per_execution', '?')}" + \
        (" fused" if execution.get("fused") else "") + \
        (" from the device" if execution.get("device_data") else "")
    return [backend, SCRIPTS[listing], " ".join(extra) or "defaults", calls,
            ", ".join(record["devices"]) or "?", f"{100 * record['test_accuracy']:.2f}%",
            f"{statistics.median(after_first):.3f}",
            f"{record['versions'].get(backend, '?')}, Keras {record['versions']['keras']}"]


def table(card, args, argv, rows):
    """The Markdown page: how it was made, then one row per run."""
    epochs = "smoke mode (--dry-run: 2,048 digits, 1 epoch)" if args.quick \
        else f"{args.epochs} epochs each" if args.epochs else "each listing's own epochs"
    lines = [f"# The listings on each backend: {card}", "",
             f"Made by `python benchmarks/backend_check.py {' '.join(argv)}` on "
             f"{datetime.now(timezone.utc):%Y-%m-%d}, {epochs}, each script's own defaults "
             f"otherwise. Seconds per epoch: the median after the first epoch (which "
             f"compiles){'; with one epoch, that epoch' if args.quick else ''}.",
             "", "| backend | script | flags | steps per call | devices | test accuracy | "
             "s/epoch | versions |", "|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = OneLineParser(description=(__doc__ or " ").splitlines()[0])
    installed = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
    parser.add_argument("--backends", default=",".join(installed),
                        help="comma-separated; default: those installed")
    parser.add_argument("--scripts", default="mlp,cnn,rnn", help="listings, comma-separated")
    parser.add_argument("--epochs", type=int, default=3, help="0: each listing's own")
    parser.add_argument("--quick", action="store_true", help="each script with --dry-run")
    parser.add_argument("--compare-paths", action="store_true",
                        help="run each listing twice: Keras' own path (a default run), then "
                             "with --fast")
    parser.add_argument("--output", default=os.path.join(ROOT, "results", "BACKENDS.md"))
    parser.add_argument("--results-dir", help="keep the runs' folders here (default: dropped)")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    listings = [s for s in args.scripts.split(",") if s]
    unknown = [b for b in backends if b not in BACKENDS] + [s for s in listings if s not in SCRIPTS]
    if unknown or not backends:
        parser.error(f"unknown or no backend or script: {', '.join(unknown) or 'none given'}")
    card = card_name()
    rows = []
    variants = [()]
    if args.compare_paths:
        variants = [(), ("--fast",)]
    with tempfile.TemporaryDirectory() as scratch:
        for backend in backends:
            for listing in listings:
                for extra in variants:
                    rows.append(run_one(backend, listing, args.epochs, args.quick,
                                        args.results_dir or scratch, extra))
                    print(" | ".join(rows[-1]), flush=True)
                    # after every row: a run cut off at a deadline still leaves its page
                    write_atomically(args.output, table(card, args, argv, rows))
    print(f"Table: {args.output}")


if __name__ == "__main__":
    main()
