"""What TABLES.md cites for a row that misses: the protocol experiment's rows like it, and how
each hypothesis moved their test accuracy. The experiment's rule, its scores and its page live
beside its runs (results/investigations/protocols/protocol_experiment.py), which imports this."""
import os

from tables.book_tables import PROTOCOLS, SEEDS, runs_folder
from tables.tables_report import complete, summarize

FOLDER = os.path.join("investigations", "protocols")
# the hypotheses: every protocol but a per-table choice among them
HYPOTHESES = tuple(name for name, protocol in PROTOCOLS.items() if "tables" not in protocol)
# The experiment's fixed rows: per table an SGD row and an Adam row, plus one more SGD row of
# the MLP with dropout.
EXPERIMENT_ROWS = ("mlp-04", "mlp-06", "mlp-16", "cnn-01", "cnn-03", "rnn-01", "rnn-03")


def evidence(row, rows, results_dir):
    """What TABLES.md cites for a row that misses: (label, line), or None when the experiment
    tested no row like it."""
    tested = tested_rows(row, rows)
    if not tested:
        return None
    return rows_label(tested), experiment_evidence(tested, results_dir)


def tested_rows(row, rows):
    """The experiment's rows that speak for a row: its table's rows trained with its optimizer
    (the row itself among them, if tested); [] when the experiment tested none."""
    return [r for r in rows if r["id"] in EXPERIMENT_ROWS and r["table"] == row["table"]
            and r["optimizer"] == row["optimizer"]]


def rows_label(rows):
    return f"row{'s' if len(rows) > 1 else ''} {', '.join(str(r['row']) for r in rows)}"


def experiment_evidence(tested, results_dir):
    """What the protocol experiment showed on `tested` rows: Δ test under each hypothesis."""
    shown = []
    for p in HYPOTHESES:
        deltas = [s["test"] - s["row"]["test"]
                  for s in (summarize(r, runs_folder(results_dir, p), SEEDS) for r in tested)
                  if complete(s)]
        if len(deltas) == len(tested):
            shown.append(f"`{p}` " + ", ".join(f"{d:+.2f}" for d in deltas))
    link = os.path.join(FOLDER, "README.md")
    return (f"Evidence, [the protocol experiment]({link}) on {rows_label(tested)} "
            f"({tested[0]['optimizer']}), Δ test by hypothesis: "
            + ("; ".join(shown) if shown else "not all seeds yet") + ".")
