"""Write README.md from the records: each SimpleRNN configuration of Table 1.5.1 that run.sh
trained, every committed run of it with the same seed, code path and settings, on each machine;
beside them, the spread its seeds give on one machine.

    python3 results/investigations/seed-portability/summary.py
"""
import glob
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, ROOT)
from companion.files import write_atomically  # noqa: E402  (the repository root first)
from tables.tables_report import machine_and_settings  # noqa: E402

# the record fields that make two runs the same computation but for the machine
SAME = ("script", "optimizer", "units", "cell", "dropout", "epochs", "batch_size", "jit_compile",
        "steps")


def key(record):
    settings = record["hyperparameters"]
    steps = (record.get("execution") or {}).get("steps_per_execution",
                                                settings.get("steps_per_execution") or 1)
    values = {**settings, "script": record["script"], "steps": steps,
              "jit_compile": settings.get("jit_compile") or "auto",
              "cell": settings.get("cell", "simple")}
    return tuple(values.get(name) for name in SAME)


def records(pattern):
    found = []
    for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        if not record.get("dry_run") and record.get("status", "finished") == "finished":
            found.append((os.path.relpath(os.path.dirname(path), HERE), record))
    return found


def main():
    ours = records("results/investigations/seed-portability/runs/rnn_mnist/*/record.json")
    committed = records("results/tables/rnn-0*-seed*/rnn_mnist/*/record.json") + \
        records("results/rnn_mnist/*/record.json")
    lines = ["# One seed, one code path, several CPUs", "",
             "Made by `sh results/investigations/seed-portability/run.sh` (on the machine named "
             "in its rows) and `python3 results/investigations/seed-portability/summary.py`, "
             "which sets each run beside every committed record of the same configuration: the "
             "same script, flags, seed, `jit_compile` and steps per call. Only the machine "
             "differs. Test accuracy in percent.", "",
             "| configuration | seed | machine and settings | test accuracy | record |",
             "|---|---|---|---|---|"]
    findings = []
    for configuration in sorted({key(record) for _, record in ours}, key=str):
        same = [(path, record) for path, record in committed + ours
                if key(record) == configuration]
        label = f"{configuration[1]}, {configuration[2]} units, {configuration[5]} epochs"
        seed_one = [(path, record) for path, record in same if record["seed"] == 1]
        for path, record in sorted(seed_one, key=lambda item: item[1]["started"]):
            lines.append(f"| {label} | 1 | {machine_and_settings(record)} | "
                         f"{100 * record['test_accuracy']:.2f} | [{os.path.basename(path)}]"
                         f"({path}) |")
        accuracies = [100 * record["test_accuracy"] for _, record in seed_one]
        machines = {machine_and_settings(record) for _, record in seed_one}
        # the row's seeds as results/TABLES.md pools them: the same flags, whatever the machine
        # and the steps per call (which do not change TensorFlow's computation)
        flags = configuration[:7]
        seeds = {}
        for _, record in committed:
            if key(record)[:7] == flags:
                seeds.setdefault(record["seed"], 100 * record["test_accuracy"])
        spread = (f"the standard deviation of its seeds {','.join(map(str, sorted(seeds)))} "
                  f"in the committed records (mixed machines) is "
                  f"{statistics.stdev(seeds.values()):.2f}" if len(seeds) >= 3
                  else "fewer than three of its seeds are committed")
        if len(machines) > 1:
            findings.append(f"- {label}: seed 1 on {len(machines)} machines spans "
                            f"{min(accuracies):.2f} to {max(accuracies):.2f} "
                            f"({max(accuracies) - min(accuracies):.2f} points); {spread}.")
    lines += ["", "What the records say:", ""] + (findings or ["- no configuration has run on "
                                                              "two machines yet"]) + [""]
    write_atomically(os.path.join(HERE, "README.md"), "\n".join(lines))


if __name__ == "__main__":
    main()
