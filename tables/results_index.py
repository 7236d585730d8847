"""results/README.md and results/TEXT.md, generated from the committed runs' records: what each
listing's run reached, beside the book's number; the text classifiers over seeds; and where
each report comes from. No number in them is typed by hand.

    python -m tables.results_index          # rewrite results/README.md and results/TEXT.md
"""
import glob
import json
import os
import statistics
import sys

from companion.cli import run_with_defaults
from companion.files import write_atomically
from tables.book_tables import LISTING_TEST_ACCURACY

LISTINGS = ("mnist_samples", "mlp_mnist", "cnn_mnist", "rnn_mnist")
REPORTS = [
    ("TABLES.md", "the book's three tables, every row under each protocol",
     "python reproduce.py --report"),
    ("investigations/protocols/README.md", "which protocol made the book's tables",
     "sh results/investigations/protocols/run.sh"),
    ("investigations/mlp-speed-defaults/README.md", "the MLP's accuracy under Keras' own "
     "settings and under its former speed defaults (XLA, 16 steps per call)",
     "sh results/investigations/mlp-speed-defaults/run.sh"),
    ("investigations/xla-cpu/README.md", "the MLP's epoch on a CPU with and without XLA, "
     "and with Keras' dropout or Philox named under XLA (code since deleted), at Table 1.3.2's "
     "widths", "sh results/investigations/xla-cpu/run.sh at commit 1442344, then "
     "python3 results/investigations/xla-cpu/summary.py"),
    ("investigations/seed-portability/README.md", "one seed, one code path, several CPUs: "
     "how far a run's accuracy moves", "python3 results/investigations/seed-portability/"
     "summary.py"),
    ("speed/README.md", "seconds per epoch: Keras' own path, --fast and the book's own script, "
     "TensorFlow and JAX", "python benchmarks/speed_table.py --book-repo DIR"),
    ("BENCHMARKS.md", "seconds per epoch against the arithmetic's bounds",
     "python benchmarks/epoch_time.py"),
    ("gpu/", "the listings on lent GPUs; h100-jax.md is a log typed by hand from printed "
     "output, with no record behind it", "python benchmarks/backend_check.py"),
    ("TEXT.md", "the text classifiers over seeds 1-3",
     "python lstm_gru_text.py --seeds 1,2,3, then python -m tables.results_index"),
    ("figures/", "the chapter's concept figures", "python concept_figures.py"),
    ("predict_digit/", "the committed CNN on docs/handwriting/seven.jpg",
     "python predict_digit.py docs/handwriting/seven.jpg"),
]


def machine(record):
    devices = [d for d in record.get("devices", []) if not d.startswith("cpu")]
    where = ", ".join(devices) or record.get("machine", {}).get("processor", "?")
    threads = record.get("machine", {}).get("cpu_count")
    if threads and not devices:
        where += f", {threads} CPUs"
    backend = record.get("keras_backend", "?")
    return f"{where}, {backend} {record['versions'].get(backend, '')}"


def listing_rows(results_dir):
    rows = []
    for stem in LISTINGS:
        for path in sorted(glob.glob(os.path.join(glob.escape(results_dir), stem, "*",
                                                  "record.json"))):
            with open(path, encoding="utf-8") as f:
                record = json.load(f)
            if record.get("dry_run"):
                continue
            folder = os.path.relpath(os.path.dirname(path), results_dir)
            book = LISTING_TEST_ACCURACY.get(stem)
            if "test_accuracy" in record:
                reached = f"{100 * record['test_accuracy']:.2f}%"
                seconds = f"{statistics.median(e['seconds'] for e in record['epochs']):.2f}"
            else:
                reached, seconds = "label counts checked", "-"
            rows.append(f"| [`{folder}`]({folder}/record.json) | `{record['command']}` | "
                        f"{reached} | {f'{book}%' if book else '-'} | {seconds} | "
                        f"{machine(record)} |")
    return rows


CELL_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
# the flags that lstm_gru_text.py's report runs vary; every other setting is the script's default
TEXT_VARIED = ("--cell", "--seed", "--seeds", "--trainable-embedding", "--results-dir")


def text_rows(results_dir):
    """{(cell, trainable): [records]} of lstm_gru_text.py's full runs with its defaults."""
    groups = {}
    for path in sorted(glob.glob(os.path.join(glob.escape(results_dir), "lstm_gru_text", "*",
                                              "record.json"))):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        settings = record["hyperparameters"]
        if not run_with_defaults(record, TEXT_VARIED):
            continue
        record["folder"] = os.path.relpath(os.path.dirname(path), results_dir)
        groups.setdefault((settings["cell"], settings["trainable_embedding"]), []).append(record)
    order = [(cell, trainable) for trainable in (False, True) for cell in CELL_NAMES]
    return [(key, sorted(groups[key], key=lambda r: r["seed"])) for key in order if key in groups]


def write_text_report(results_dir="results"):
    """TEXT.md: the text classifiers' test accuracy over seeds, from their records."""
    rows = text_rows(results_dir)
    if not rows:
        return None
    first = rows[0][1][0]
    data, embedding, settings = first["data"], first["embedding"], first["hyperparameters"]
    lines = [
        "# Sentiment of movie-review sentences: SimpleRNN, LSTM and GRU on GloVe", "",
        "Generated by `python -m tables.results_index` from the records of `python "
        "lstm_gru_text.py --seeds 1,2,3` and the same with `--trainable-embedding`, the script's "
        f"defaults: Rotten Tomatoes sentences ({data['train_samples']:,} / "
        f"{data['validation_samples']:,} / {data['test_samples']:,} train / validation / test, "
        f"a fixed stratified split), {settings['sequence_length']} words per sentence, "
        f"{embedding['source']} covering {embedding['covered_words']:,} of the "
        f"{embedding['vocabulary_words']:,} vocabulary words ({embedding['coverage']:.1%}), "
        f"{settings['hidden_units']} units, dropout {settings['dropout']} on the "
        f"recurrent layer's inputs, Adam {settings['learning_rate']}, "
        f"{settings['epochs']} epochs, batch {settings['batch_size']}. Test accuracy "
        "after the last epoch, in percent, mean ± standard deviation over the seeds; machine: "
        f"{machine(first)}.", "",
        "| cell | embedding | test accuracy | per seed | last-epoch validation accuracy | "
        "median s/epoch | records |", "|---|---|---|---|---|---|---|"]
    for (cell, trainable), records in rows:
        tests = [100 * r["test_accuracy"] for r in records]
        spread = f" ± {statistics.stdev(tests):.1f}" if len(tests) > 1 else ""
        validation = statistics.mean(100 * r["validation_accuracy"] for r in records)
        seconds = statistics.median(r["seconds_per_epoch"] for r in records)
        per_seed = ", ".join(f"{t:.1f} (seed {r['seed']})" for t, r in zip(tests, records))
        links = ", ".join(f"[{r['seed']}]({r['folder']}/record.json)" for r in records)
        lines.append(f"| {CELL_NAMES[cell]} | {'trainable' if trainable else 'frozen'} | "
                     f"{statistics.mean(tests):.1f}{spread} | {per_seed} | {validation:.1f} | "
                     f"{seconds:.1f} | {links} |")
    path = os.path.join(results_dir, "TEXT.md")
    write_atomically(path, "\n".join(lines) + "\n")
    return path


def write_results_index(results_dir="results"):
    lines = [
        "# Committed results", "",
        "Generated by `python -m tables.results_index` from the records below; a test fails "
        "when this page no longer matches them. Each run folder is named by its UTC start time; "
        "its `record.json` holds the exact command, every hyper-parameter, the machine, the "
        "library versions and the outcome.", "",
        "## The listings' runs", "",
        "| folder | command | test accuracy | book | median s/epoch | machine |",
        "|---|---|---|---|---|---|", *listing_rows(results_dir), "",
        "Seconds per epoch depend on the machine and on what else it ran at the time; compare "
        "them only within one benchmark run (`BENCHMARKS.md`).", "",
        "## Reports", "", "| report | what | made by |", "|---|---|---|"]
    lines += [f"| [`{path}`]({path}) | {what} | `{command}` |" for path, what, command in REPORTS]
    path = os.path.join(results_dir, "README.md")
    write_atomically(path, "\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    print(write_results_index(*sys.argv[1:]))
    print(write_text_report(*sys.argv[1:]))
