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
    ("BENCHMARKS.md", "seconds per epoch against the arithmetic's bounds (made by the version "
     "of the script at commit 4700275)", "python benchmarks/epoch_time.py"),
    ("gpu/", "the listings on lent GPUs: BENCHMARKS-h100-jax.md by epoch_time.py; "
     "h100-jax.md a log typed by hand from printed output, with no record behind it; a log "
     "of the H200 scan check; device-data.sh, a measurement prepared and not yet run",
     "python benchmarks/epoch_time.py on the GPU"),
    ("backends/", "the listings on TensorFlow, JAX and PyTorch (a PyTorch run among them)",
     "python benchmarks/backend_check.py"),
    ("investigations/fused-epochs/README.md", "the JAX scan of speed/scan.py against Keras' "
     "own loop on a CPU", "python benchmarks/epoch_time.py at commit 8c6b9fa (its page)"),
    ("investigations/sgd-epochs/", "an SGD row of Table 1.3.2 trained for 100 epochs (two "
     "runs; each record holds its command)", "python mlp_mnist.py --optimizer sgd --dropout 0 "
     "--hidden-units 256-256-256 --epochs 100 --results-dir results/investigations/sgd-epochs"),
    ("testing/", "a clean clone's whole test run, as docs/testing.md cites it", "bash .ci/run"),
    ("TEXT.md", "the text classifiers and their variants over seeds 1-3, beside a linear "
     "baseline", "bash results/investigations/text-variants/run.sh"),
    ("investigations/handwriting/README.md", "predict_digit.py's picture steps on "
     "handwriting that was never MNIST's, held-back part and tuning part",
     "python results/investigations/handwriting/measure.py --part PART"),
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


MAX_RECORD_BYTES = 20_000_000  # a record of thousands of epochs takes a few MB


def read_record(path):
    """A run's record.json as a dict, or None when it is not one: not a regular file (a FIFO, a
    link to /dev/zero), implausibly large, not JSON, or not an object with a string command."""
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_RECORD_BYTES:
            return None
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("command", ""), str) \
        else None


def run_with_defaults(record, varied=("--seed", "--results-dir")):
    """Whether a record is a full, finished run of its script with the script's own defaults:
    no flag in its command but those `varied` (for the listings, --seed and --results-dir), and
    no --dry-run. Read from the command, so no default is copied here."""
    flags = {part.split("=")[0] for part in record.get("command", "").split()[2:]
             if part.startswith("--")}
    return flags <= set(varied) and record.get("status", "finished") == "finished"


CELL_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
# flags that say which run of a row this is, not which row: every other flag names the variant
RUN_FLAGS = ("--cell", "--seed", "--seeds", "--results-dir", "--model")
# the rows in the order results/investigations/text-variants/README.md gives them
VARIANT_ORDER = ("", "--trainable-embedding", "--dropout 0", "--dropout 0.5",
                 "--sequence-length 60", "--pooling mean", "--pooling max", "--bidirectional",
                 "--trainable-embedding --bidirectional --pooling max")


def variant(record):
    """The flags of a record's command that make its row: '' for the script's defaults."""
    parts, kept = record.get("command", "").split()[2:], []
    while parts:
        part = parts.pop(0)
        flag = part.split("=")[0]
        takes_value = "=" not in part and parts and not parts[0].startswith("--")
        value = parts.pop(0) if takes_value else None
        if flag not in RUN_FLAGS:
            kept.append(part if value is None else f"{part} {value}")
    return " ".join(kept)


def finished_records(results_dir, script):
    """The full, finished runs' records of a script, oldest first."""
    for path in sorted(glob.glob(os.path.join(glob.escape(results_dir), script, "*",
                                              "record.json"))):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        if record.get("dry_run") or record.get("status", "finished") != "finished":
            continue
        record["folder"] = os.path.relpath(os.path.dirname(path), results_dir)
        yield record


def text_rows(results_dir):
    """[((variant, cell), [records by seed])] of lstm_gru_text.py's full runs, in the rows'
    order: the defaults, then each variant of the investigation."""
    groups = {}
    for record in finished_records(results_dir, "lstm_gru_text"):
        key = variant(record)
        if key in VARIANT_ORDER:  # a run made again (a notebook's) replaces the earlier one
            groups.setdefault((key, record["hyperparameters"]["cell"]), {})[record["seed"]] = record
    order = [(key, cell) for key in VARIANT_ORDER for cell in CELL_NAMES]
    return [(key, [groups[key][seed] for seed in sorted(groups[key])])
            for key in order if key in groups]


def baseline_rows(results_dir):
    newest = {}  # a run made again replaces the earlier one of its seed
    for record in finished_records(results_dir, "text_baseline"):
        if variant(record) == "":
            newest[record["hyperparameters"]["model"], record["seed"]] = record
    return [(model, [newest[key] for key in sorted(newest) if key[0] == model])
            for model in ("nbsvm", "logreg", "nb") if any(key[0] == model for key in newest)]


def accuracy_cells(records):
    """Mean ± sd of the test accuracy, per seed, mean validation accuracy, links."""
    tests = [100 * r["test_accuracy"] for r in records]
    spread = f" ± {statistics.stdev(tests):.1f}" if len(tests) > 1 else ""
    validation = statistics.mean(100 * r["validation_accuracy"] for r in records)
    per_seed = ", ".join(f"{t:.1f} (seed {r['seed']})" for t, r in zip(tests, records))
    links = ", ".join(f"[{r['seed']}]({r['folder']}/record.json)" for r in records)
    return f"{statistics.mean(tests):.1f}{spread} | {per_seed} | {validation:.1f}", links


BASELINE_NAMES = {"nbsvm": "NBSVM (uni- and bigrams)", "logreg": "logistic regression "
                  "(uni- and bigrams)", "nb": "naive Bayes (uni- and bigrams)"}


def write_text_report(results_dir="results"):
    """TEXT.md: the text classifiers' test accuracy over seeds, from their records, beside a
    linear baseline on the same split."""
    rows = text_rows(results_dir)
    if not rows:
        return None
    first = rows[0][1][0]
    data, embedding, settings = first["data"], first["embedding"], first["hyperparameters"]
    lines = [
        "# Sentiment of movie-review sentences: SimpleRNN, LSTM and GRU on GloVe, and a "
        "linear baseline", "",
        "Generated by `python -m tables.results_index` from the records of "
        "`bash results/investigations/text-variants/run.sh` (each row's command is "
        "`python lstm_gru_text.py --seeds 1,2,3` with the row's flags; the plan, fixed before "
        "the variants ran: [investigations/text-variants](investigations/text-variants/"
        "README.md)); a seed run again later replaces its earlier run (the defaults' seed 1: "
        "[the notebook's run](../notebooks/lstm_gru_text.ipynb)). The script's defaults: "
        "Rotten Tomatoes sentences "
        f"({data['train_samples']:,} / {data['validation_samples']:,} / "
        f"{data['test_samples']:,} train / validation / test, a fixed stratified split), "
        f"{settings['sequence_length']} words per sentence, {embedding['source']} covering "
        f"{embedding['covered_words']:,} of the {embedding['vocabulary_words']:,} vocabulary "
        f"words ({embedding['coverage']:.1%}), frozen, {settings['hidden_units']} units, "
        f"dropout {settings['dropout']} on the recurrent layer's inputs, the last state read, "
        f"Adam {settings['learning_rate']}, {settings['epochs']} epochs, batch "
        f"{settings['batch_size']}. Test accuracy after the last epoch, in percent, mean ± "
        f"standard deviation over the seeds; machine: {machine(first)}. The seconds per epoch "
        "of the variants' rows were measured while other work shared the machine.", "",
        "| flags | cell | test accuracy | per seed | validation accuracy | last-epoch train "
        "accuracy | median s/epoch | records |", "|---|---|---|---|---|---|---|---|"]
    for (key, cell), records in rows:
        cells, links = accuracy_cells(records)
        train = statistics.mean(100 * r["train_accuracy"] for r in records)
        seconds = statistics.median(r["seconds_per_epoch"] for r in records)
        name = f"`{key}`" if key else "defaults"
        lines.append(f"| {name} | {CELL_NAMES[cell]} | {cells} | {train:.1f} | {seconds:.1f} | "
                     f"{links} |")
    baselines = baseline_rows(results_dir)
    if baselines:
        lines += ["", "The baseline: `python text_baseline.py --model all --seeds 1,2,3`, on "
                  "the same sentences and split, the regularisation chosen on the validation "
                  "sentences (the solvers are deterministic: the seeds agree).", "",
                  "| model | test accuracy | per seed | validation accuracy | records |",
                  "|---|---|---|---|---|"]
        for model, records in baselines:
            cells, links = accuracy_cells(records)
            lines.append(f"| {BASELINE_NAMES[model]} | {cells} | {links} |")
        complete = [(key, records) for key, records in rows if len(records) >= 3]
        if complete:
            (key, cell), best = max(complete, key=lambda item: statistics.mean(
                r["validation_accuracy"] for r in item[1]))
            best_test = statistics.mean(100 * r["test_accuracy"] for r in best)
            nbsvm = dict(baselines).get("nbsvm")
            if nbsvm:
                gap = statistics.mean(100 * r["test_accuracy"] for r in nbsvm) - best_test
                lines += ["", f"The recurrent row with the best mean validation accuracy (the "
                          f"rule fixed before the runs; the test sentences choose nothing): "
                          f"{CELL_NAMES[cell]} with {f'`{key}`' if key else 'the defaults'}, "
                          f"{best_test:.1f}% on the test sentences, "
                          f"{abs(gap):.1f} points {'under' if gap > 0 else 'over'} NBSVM."]
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
