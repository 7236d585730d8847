"""The book's Tables 1.3.2, 1.4.1 and 1.5.1 as data: the rows, the command line that trains each
row under a protocol, and the folders their runs go to.

A protocol says how every row is trained where the book leaves it open. `listing` is the
listings' own settings. The others are the hypotheses of the protocol experiment, read from its
home (results/investigations/protocols/hypotheses.json), and CHOSEN trains each table as it
chose.
"""
import argparse
import csv
import glob
import json
import os
import sys

from companion import cli
from companion.errors import UserError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BOOK_TABLES = os.path.join(HERE, "book_tables.csv")
SCRIPTS = {"mlp": "mlp_mnist.py", "cnn": "cnn_mnist.py", "rnn": "rnn_mnist.py"}
TITLES = {"mlp": "Table 1.3.2: MLP", "cnn": "Table 1.4.1: CNN", "rnn": "Table 1.5.1: SimpleRNN"}
# what each listing's header in the book's repository reports (chapter1.md)
LISTING_TEST_ACCURACY = {"mlp_mnist": 98.3, "cnn_mnist": 99.4, "rnn_mnist": 98.3}
TOLERANCE = 0.5  # percentage points: the goal for every row's test accuracy
SEEDS = (1, 2, 3)  # a row's result is the mean over these seeds

LISTING = "listing"
# The other protocols are the protocol experiment's, kept as data in its home beside its runs
HYPOTHESES_FILE = os.path.join(ROOT, "results", "investigations", "protocols", "hypotheses.json")


def read_protocols(path=HYPOTHESES_FILE):
    """{name: protocol}: the listing's own, then the experiment's hypotheses and its choice."""
    try:
        with open(path, encoding="utf-8") as f:
            hypotheses = json.load(f)
    except (OSError, ValueError) as error:  # read on import: one line here, not a traceback
        print(f"{os.path.basename(sys.argv[0])}: error: {path}: cannot read the protocol "
              f"experiment's hypotheses ({getattr(error, 'strerror', None) or error}); restore "
              f"it with `git checkout -- {os.path.relpath(path, ROOT)}`", file=sys.stderr)
        raise SystemExit(2) from None
    listing = {"about": "the listings' own settings: batch 128; 20 epochs (MLP, RNN), 10 (CNN)",
               "flags": {}}
    return {LISTING: listing, **{name: protocol for name, protocol in hypotheses.items()
                                 if not name.startswith("_")}}


PROTOCOLS = read_protocols()


def protocol_tables(protocol):
    """The tables a protocol trains: a later round's hypothesis may name only some."""
    return tuple(PROTOCOLS[protocol].get("only", SCRIPTS))


def table_protocol(protocol, table):
    """The protocol a table's rows train under: a per-table protocol (one with "tables", as
    the experiment's choice may be) names one of the others for each table."""
    return PROTOCOLS[protocol].get("tables", {}).get(table, protocol)


CHOSEN = "experiment-choice"  # the protocol experiment's choice, table by table


COLUMNS = ("table", "row", "layers", "regularizer", "optimizer", "relu", "train", "test")


MAX_TABLE_BYTES = 1_000_000  # the book's three tables take 2 KB


def read_book_rows(path=BOOK_TABLES):
    """The book's rows, in order, as dicts of the CSV's columns (accuracies as floats)."""
    if not os.path.isfile(path):  # a FIFO or a device (/dev/zero) would be read for ever
        raise ValueError("not a regular file")
    if os.path.getsize(path) > MAX_TABLE_BYTES:
        raise ValueError(f"{os.path.getsize(path):,} bytes, far more than a book table's")
    with open(path, newline="", encoding="utf-8-sig") as f:  # Excel starts with a BOM
        reader = csv.DictReader(line for line in f if not line.startswith("#"))
        try:
            rows = list(reader)
        except csv.Error as error:  # e.g. a field longer than csv reads (131,072 characters)
            raise ValueError(f"not a table csv can read: {error}") from None
    missing = [name for name in COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"no {', '.join(missing)} column (a book table's header: "
                         f"{','.join(COLUMNS)})")
    seen = set()
    for line, row in enumerate(rows, start=1):
        where = f"row {line} of the table"
        if row["table"] not in SCRIPTS:
            raise ValueError(f"{where}: unknown table {row['table']!r} (the book's are "
                             f"{', '.join(SCRIPTS)})")
        if row["relu"] not in RELU:
            raise ValueError(f"{where}: relu {row['relu']!r}, expected Yes or None as the "
                             f"book prints it")
        row["row"] = number(row["row"], int, where, "row")
        for column in ("train", "test"):
            row[column] = number(row[column], float, where, column)
            if not 0 <= row[column] <= 100:
                raise ValueError(f"{where}: {column} accuracy {row[column]}, expected a "
                                 f"percentage from 0 to 100")
        row["id"] = f"{row['table']}-{row['row']:02d}"
        if row["id"] in seen:  # a spreadsheet's copy-paste: one record per (row, seed) only
            raise ValueError(f"row {row['row']} of table {row['table']} is listed twice")
        seen.add(row["id"])
    return rows


RELU = ("Yes", "None")  # the book's column: a ReLU after each layer, or none (row 1)


def number(text, kind, where, column):
    """`text` as an int or a finite float; a ValueError naming the row and column if not."""
    try:
        value = kind(text)
    except (TypeError, ValueError):
        value = None
    if value is None or value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{where}: {column} {text!r} is not a number")
    return value


def parse_call(text, name):
    """'Dropout(0.45)' -> '0.45' for name 'Dropout'; None when text is not such a call."""
    prefix = f"{name}("
    if text.startswith(prefix) and text.endswith(")"):
        return text[len(prefix):-1]
    return None


def row_flags(row, protocol=LISTING):
    """The script and its flags that train one book row under a protocol."""
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
    protocol = table_protocol(protocol, row["table"])
    if row["table"] not in protocol_tables(protocol):
        raise ValueError(f"row {row['id']}: protocol {protocol} trains only "
                         f"{', '.join(protocol_tables(protocol))} rows")
    flags += PROTOCOLS[protocol]["flags"].get(row["table"], [])
    for flag, value in zip(flags[::2], flags[1::2]):  # checked now, not when the row runs
        try:
            FLAG_TYPES[flag](value)
        except argparse.ArgumentTypeError as error:
            raise ValueError(f"row {row['id']}: {flag} {value}: {error}") from None
    return SCRIPTS[row["table"]], flags


# each flag a row can set, with the type its script reads it with
FLAG_TYPES = {"--optimizer": cli.optimizer_name, "--dropout": cli.dropout_rate,
              "--l2": cli.non_negative_float, "--hidden-units": cli.layer_widths,
              "--activation": lambda value: value, "--filters": cli.layer_width,
              "--units": cli.layer_width, "--epochs": cli.epoch_count,
              "--batch-size": cli.batch_samples}


def runs_folder(results_dir, protocol, quick=False):
    """<results-dir>/tables[-<protocol>][-quick]: the listing keeps the plain name it always had."""
    name = "tables" + ("" if protocol == LISTING else f"-{protocol}") + ("-quick" if quick else "")
    return os.path.join(results_dir, name)


def table_runs_folder(results_dir, protocol, table, quick=False):
    """Where a table's rows run under a protocol: a per-table protocol reuses the folders of
    the protocols it names, whose runs are the same commands."""
    return runs_folder(results_dir, table_protocol(protocol, table), quick)


def row_dir(runs_dir, row, seed):
    return os.path.join(runs_dir, f"{row['id']}-seed{seed}")


def finished_record(runs_dir, row, seed):
    """(path, record) of the row's completed run, or None. A run folder exists only once all
    of its files are written, so finding record.json means the run finished."""
    paths = sorted(glob.glob(os.path.join(glob.escape(row_dir(runs_dir, row, seed)), "*", "*",
                                          "record.json")))
    if not paths:
        return None
    try:
        with open(paths[0], encoding="utf-8") as f:
            record = json.load(f)
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        record = error
    if not isinstance(record, dict) or \
            not isinstance(record.get("test_accuracy"), (int, float, type(None))):
        raise UserError(f"{paths[0]}: a damaged record (not a run's JSON with its test accuracy); "
                        f"delete its run folder ({os.path.dirname(os.path.dirname(paths[0]))}) "
                        f"to train the row again")
    return paths[0], record


def failure(runs_dir, row, seed):
    """The row's failed.json as a dict, or None."""
    path = os.path.join(row_dir(runs_dir, row, seed), "failed.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return None
