"""The reports reproduce.py writes from the tables' records alone, never from numbers typed in:

- TABLES.md (and TABLES.png): each book row beside each reported protocol's mean ± spread over
  its seeds, with findings generated for every row that misses;
- investigations/protocols/README.md (and protocols.png): the experiment that chooses the
  protocol, each hypothesis on the same rows and seeds, scored by the rule stated there.
"""
import math
import os
import statistics
from datetime import datetime

import matplotlib

from companion.book_tables import (
    CHOSEN,
    EXPERIMENT_ROWS,
    HYPOTHESES,
    LISTING,
    PROTOCOLS,
    SCRIPTS,
    SEEDS,
    TITLES,
    TOLERANCE,
    failure,
    finished_record,
    protocol_round,
    protocol_tables,
    runs_folder,
    table_runs_folder,
)
from companion.files import replacing, write_atomically

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXPERIMENT = os.path.join("investigations", "protocols")
MARGIN = 0.1  # points by which a hypothesis must beat the listing
# The rule, stated before any hypothesis ran (git history: the commit that added this line).
RULE = (
    "Each table is decided on its own experiment rows, from 3-seed means. A hypothesis scores "
    "the mean over those rows of (|Δ test| + |Δ train|) / 2, in points: the book prints both "
    "accuracies, and the train accuracy (the last epoch's, dropout active) witnesses how long "
    "and how noisily the book's runs trained, so a protocol cannot match the test column by "
    "luck alone. The lowest score wins; the listing stays unless a hypothesis beats it by more "
    f"than {MARGIN} points. A hypothesis is scored only where each of the table's experiment rows "
    "has all three seeds under it, and a table is decided once every hypothesis is scored.")
# Added with round 2, before any of its runs: how a later round's hypotheses enter the choice.
RULE_ROUNDS = (
    "A later round adds hypotheses for the tables it names, written down before its runs. They "
    "are scored by the same rule, on the same rows and seeds, and compete with every earlier "
    "hypothesis; a table's choice changes only once every hypothesis of the round is scored there.")


def record_minutes(record):
    started = datetime.fromisoformat(record["started"])
    finished = datetime.fromisoformat(record["finished"])
    return (finished - started).total_seconds() / 60


def summarize(row, runs_dir):
    """What one row's records under one protocol say: seeds, means, spreads, runs, failures."""
    runs, failures = [], []
    for seed in sorted(seeds_present(runs_dir, row)):
        failed = failure(runs_dir, row, seed)
        found = finished_record(runs_dir, row, seed)
        if failed is not None:
            failures.append((seed, failed["reason"]))
        elif found is not None:
            runs.append((seed, found[0], found[1]))
    summary = {"row": row, "seeds": [seed for seed, _, _ in runs], "failures": failures,
               "paths": [path for _, path, _ in runs], "records": [r for _, _, r in runs]}
    if runs:
        tests = [100 * record["test_accuracy"] for record in summary["records"]]
        trains = [100 * record["train_accuracy"] for record in summary["records"]]
        summary.update(tests=tests, test=statistics.mean(tests), test_spread=spread(tests),
                       train=statistics.mean(trains), train_spread=spread(trains),
                       minutes=sum(map(record_minutes, summary["records"])))
    return summary


def seeds_present(runs_dir, row):
    prefix = f"{row['id']}-seed"
    if not os.path.isdir(runs_dir):
        return []
    return [int(name[len(prefix):]) for name in os.listdir(runs_dir)
            if name.startswith(prefix) and name[len(prefix):].isdigit()]


def complete(summary):
    """Whether the summary is over every seed of SEEDS."""
    return set(SEEDS) <= set(summary["seeds"])


def spread(values):
    return statistics.stdev(values) if len(values) > 1 else None


def accuracy_cell(summary, key):
    if not summary["seeds"]:
        return "-"
    text = f"{summary[key]:.2f}"
    if summary[key + "_spread"] is not None:
        text += f" ± {summary[key + '_spread']:.2f}"
    if not complete(summary):
        text += f" (seed{'s' if len(summary['seeds']) > 1 else ''} "
        text += ",".join(map(str, summary["seeds"])) + ")"
    return text


def delta_cell(summary):
    if not summary["seeds"]:
        return "failed" if summary["failures"] else "not run"
    delta = summary["test"] - summary["row"]["test"]
    return f"{delta:+.2f}" + (" ✓" if abs(delta) <= TOLERANCE and complete(summary) else "")


def within_line(summaries, protocol):
    """'N of 26 rows within 0.5 points (3-seed means), protocol NAME' (+ what is missing)."""
    full = [s for s in summaries if complete(s)]
    within = sum(abs(s["test"] - s["row"]["test"]) <= TOLERANCE for s in full)
    line = (f"{within} of {len(summaries)} rows within {TOLERANCE} points "
            f"({len(SEEDS)}-seed means), protocol {protocol}")
    if len(full) < len(summaries):
        seeds = ",".join(map(str, SEEDS))
        missing = len(summaries) - len(full)
        lack = "row does not" if missing == 1 else "rows do not"
        line += f"; {missing} {lack} have seeds {seeds} yet"
    return line


def reported_protocols(rows, results_dir, quick, also=None):
    """The listing and the chosen protocol; until one is chosen, every hypothesis that ran rows
    beyond the experiment's (whose own write-up shows them all); and `also`, the protocol the
    reader's command ran, where it is not one of those."""
    if CHOSEN:
        protocols = [LISTING] + ([CHOSEN] if CHOSEN != LISTING else [])
    else:
        protocols = [LISTING] + [p for p in HYPOTHESES if p != LISTING and any(
            seeds_present(runs_folder(results_dir, p, quick), row)
            for row in rows if row["id"] not in EXPERIMENT_ROWS)]
    return protocols + ([also] if also and also not in protocols else [])


def write_tables_report(rows, results_dir, quick, also=None):
    """TABLES.md (TABLES_QUICK.md) and its figure, from the records: the protocols of
    reported_protocols()."""
    report_path = os.path.join(results_dir, "TABLES_QUICK.md" if quick else "TABLES.md")
    protocols = reported_protocols(rows, results_dir, quick, also)
    summaries = {p: [summarize(row, table_runs_folder(results_dir, p, row["table"], quick))
                     for row in rows] for p in protocols}
    lines = ["# Chapter 1's tables: the book's accuracies and this project's", ""]
    if quick:
        lines += ["**Smoke mode (--quick): 2,048 training digits, one epoch. These numbers say "
                  "that the runner works, not what the models reach.**", ""]
    lines += [
        "Made by `python reproduce.py --protocol NAME --seeds 1,2,3`; regenerate without "
        "training: `python reproduce.py --report`. Accuracies in percent, mean ± standard "
        f"deviation over seeds {','.join(map(str, SEEDS))} (other seeds are named in the cell); "
        "\"train\" is the last epoch's accuracy reported by `fit` (dropout active), as in the "
        f"book. Δ = measured test − book test; ✓ marks |Δ| ≤ {TOLERANCE} over all "
        f"{len(SEEDS)} seeds. The Layers column is read as the hidden layers' widths (README). "
        "Protocols:", ""]
    lines += [f"- `{p}`: {PROTOCOLS[p]['about']}" for p in protocols] + [""]
    for table in SCRIPTS:
        indexes = [i for i, row in enumerate(rows) if row["table"] == table]
        if not indexes:
            continue
        header = ["#", "Layers", "Regularizer", "Optimizer", "ReLU", "Book train", "Book test"]
        for p in protocols:
            header += [f"{p}: train", f"{p}: test", "Δ"]
        lines += [f"## {TITLES[table]}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        for i in indexes:
            row = rows[i]
            cells = [str(row["row"]), row["layers"], row["regularizer"], row["optimizer"],
                     row["relu"], f"{row['train']:.2f}", f"{row['test']:.2f}"]
            for p in protocols:
                s = summaries[p][i]
                cells += [accuracy_cell(s, "train"), accuracy_cell(s, "test"), delta_cell(s)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        findings = [(rows[i], finding(rows[i], {p: summaries[p][i] for p in protocols}, rows))
                    for i in indexes]
        findings = [(row, text) for row, text in findings if text]
        if findings:
            lines += ["Findings (generated from the records):", ""]
            lines += [f"- {text}" for _, text in findings]
            groups = []  # the experiment's evidence once for all the rows it speaks for
            for row, _ in findings:
                tested = tested_rows(row, rows)
                if tested and tested not in groups:
                    groups.append(tested)
            lines += [f"- {experiment_evidence(tested, results_dir)}" for tested in groups]
            lines.append("")
    lines += ["## Summary", ""] + [f"- {within_line(summaries[p], p)}" for p in protocols] + [""]
    if any(s["seeds"] for p in protocols for s in summaries[p]):
        figure_path = os.path.splitext(report_path)[0] + ".png"
        plot_book_vs_measured(summaries, figure_path)
        lines += [f"![Book vs measured test accuracy]({os.path.basename(figure_path)})", ""]
    lines += ["## Runs", ""]
    for p in protocols:
        lines += [f"Protocol `{p}`:", "", "| Row | Seeds | Minutes | Machine | Records |",
                  "|---|---|---|---|---|"]
        for s in summaries[p]:
            if not s["seeds"] and not s["failures"]:
                continue
            links = ", ".join(f"[{seed}]({os.path.relpath(path, os.path.dirname(report_path))})"
                              for seed, path in zip(s["seeds"], s["paths"]))
            links += "".join(f"; seed {seed} failed: {reason}" for seed, reason in s["failures"])
            minutes = f"{s['minutes']:.1f}" if s["seeds"] else "-"
            lines.append(f"| {s['row']['id']} | {','.join(map(str, s['seeds'])) or '-'} | "
                         f"{minutes} | {machines(s['records'])} | {links} |")
        lines.append("")
    write_atomically(report_path, "\n".join(lines))
    return report_path


def machines(records):
    """The processors (or accelerators) the runs trained on, once each."""
    names = []
    for record in records:
        devices = [d for d in record.get("devices", []) if not d.startswith("cpu")]
        name = ", ".join(devices) if devices else record.get("machine", {}).get("processor", "?")
        if devices and record.get("accelerator"):
            name = f"{record['accelerator']} {name}"
        name = f"{name} ({record.get('keras_backend', '?')})"
        if name not in names:
            names.append(name)
    return "; ".join(names)


def finding(row, by_protocol, rows):
    """One sentence or three for a row that misses under a reported protocol that has all its
    seeds, made from the records: how far, what the train accuracy says, what the seeds span,
    where another protocol brings it within the band, and which experiment tested rows like
    it. None for a row within the tolerance under every such protocol."""
    full = {p: s for p, s in by_protocol.items() if complete(s)}
    missed = {p: s for p, s in full.items() if abs(s["test"] - row["test"]) > TOLERANCE}
    if not missed:
        return None
    parts = []
    for p, s in missed.items():
        d_test, d_train = s["test"] - row["test"], s["train"] - row["train"]
        if d_train < -TOLERANCE:  # the same band as the test column's
            why = (f"train {s['train']:.2f}% against the book's {row['train']:.2f}%: trained "
                   "less far than the book's run")
        elif abs(d_train) <= TOLERANCE:
            why = (f"train {s['train']:.2f}% is within {TOLERANCE} points of the book's "
                   f"{row['train']:.2f}%, so the gap is not one of training length")
        else:
            why = f"train {s['train']:.2f}% is above the book's {row['train']:.2f}%"
        low, high = min(s["tests"]), max(s["tests"])
        inside = sum(abs(test - row["test"]) <= TOLERANCE for test in s["tests"])
        if inside:  # the mean misses, some seeds do not: say how many, not "noise"
            noise = (f"; {inside} of {len(s['tests'])} seeds within the band "
                     f"({low:.2f}-{high:.2f}%): a borderline miss")
        else:
            noise = f"; no seed reaches the band ({low:.2f}-{high:.2f}%)"
        parts.append(f"`{p}` Δ {d_test:+.2f}: {why}{noise}")
    parts += [f"Within the band under `{p}`: Δ {s['test'] - row['test']:+.2f}, train "
              f"{s['train']:.2f}%" for p, s in full.items() if p not in missed]
    text = f"Row {row['row']} ({row['optimizer']}): " + ". ".join(parts) + "."
    tested = tested_rows(row, rows)
    if tested:
        text += f" Evidence: the protocol experiment on {rows_label(tested)} (below)."
    return text


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
                  for s in (summarize(r, runs_folder(results_dir, p)) for r in tested)
                  if complete(s)]
        if len(deltas) == len(tested):
            shown.append(f"`{p}` " + ", ".join(f"{d:+.2f}" for d in deltas))
    link = os.path.join(EXPERIMENT, "README.md")
    return (f"Evidence, [the protocol experiment]({link}) on {rows_label(tested)} "
            f"({tested[0]['optimizer']}), Δ test by hypothesis: "
            + ("; ".join(shown) if shown else "not all seeds yet") + ".")


def experiment_rows(rows):
    return [row for row in rows if row["id"] in EXPERIMENT_ROWS]


def scores(rows, results_dir):
    """{table: {protocol: score or None}} by RULE, from the experiment rows' records."""
    result = {}
    for table in SCRIPTS:
        table_rows = [row for row in experiment_rows(rows) if row["table"] == table]
        result[table] = {}
        for p in (p for p in HYPOTHESES if table in protocol_tables(p)):
            summaries = [summarize(row, runs_folder(results_dir, p)) for row in table_rows]
            if not summaries or not all(complete(s) for s in summaries):
                result[table][p] = None
                continue
            result[table][p] = statistics.mean(
                (abs(s["test"] - s["row"]["test"]) + abs(s["train"] - s["row"]["train"])) / 2
                for s in summaries)
    return result


def choose_protocols(table_scores):
    """{table: protocol chosen by RULE and RULE_ROUNDS}: None until every first-round
    hypothesis is scored there; then the choice among the rounds scored in full."""
    choice = {}
    for table, by_protocol in table_scores.items():
        choice[table] = None
        for last in sorted({protocol_round(p) for p in by_protocol}):
            scored = {p: score for p, score in by_protocol.items() if protocol_round(p) <= last}
            if None in scored.values():
                break
            best = min((score, p) for p, score in scored.items())
            choice[table] = best[1] if best[0] < scored[LISTING] - MARGIN else LISTING
    return choice


def write_experiment_report(rows, results_dir):
    """investigations/protocols/README.md and protocols.png: every hypothesis on the same
    rows and seeds, the rule, the scores and the choice."""
    folder = os.path.join(results_dir, EXPERIMENT)
    path = os.path.join(folder, "README.md")
    chosen_rows = experiment_rows(rows)
    table_scores = scores(rows, results_dir)
    choice = choose_protocols(table_scores)
    lines = [
        "# Which protocol made the book's tables?", "",
        "Generated by `python3 reproduce.py --report` from the records of "
        "`sh results/investigations/protocols/run.sh` (resumable), which trains each hypothesis "
        f"below on the same rows ({', '.join(EXPERIMENT_ROWS)}) with seeds "
        f"{','.join(map(str, SEEDS))}. The runs are the tables' own "
        "(`results/tables[-<protocol>]/`), so a chosen protocol's full run reuses them.", "",
        "## Hypotheses, written down before the runs", ""]
    lines += [f"- `{p}`" + (f" (round {protocol_round(p)})" if protocol_round(p) > 1 else "")
              + f": {PROTOCOLS[p]['about']}." for p in HYPOTHESES]
    lines += [
        "- Not run, because the two versions agree: Keras 2's and Keras 3's optimizer defaults "
        "(see the note below the results).", "",
        "## The rule, stated before the runs", "", RULE, "", RULE_ROUNDS, "", "## Results", "",
        "Mean over the seeds (± standard deviation); Δ against the book's value, in points; "
        "— where a hypothesis does not train the row's table.", ""]
    header = ["Row", "Optimizer", "Book train", "Book test"]
    for p in HYPOTHESES:
        header += [f"{p}: train (Δ)", "test (Δ)"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    summaries = {p: [summarize(row, runs_folder(results_dir, p)) for row in chosen_rows]
                 for p in HYPOTHESES}
    for i, row in enumerate(chosen_rows):
        cells = [row["id"], row["optimizer"], f"{row['train']:.2f}", f"{row['test']:.2f}"]
        for p in HYPOTHESES:
            s = summaries[p][i]
            if row["table"] not in protocol_tables(p):
                cells += ["—", "—"]
                continue
            for key in ("train", "test"):
                cells.append(accuracy_cell(s, key) + (f" ({s[key] - row[key]:+.2f})"
                                                      if s["seeds"] else ""))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Where each hypothesis's runs trained (Keras backend in brackets):", ""]
    lines += [f"- `{p}`: " + (machines([r for s in summaries[p] for r in s["records"]])
                              or "no runs yet") for p in HYPOTHESES]
    lines += ["", "## Scores (lower is closer to the book) and the choice", "",
              "| Table | " + " | ".join(HYPOTHESES) + " | chosen |",
              "|---|" + "---|" * (len(HYPOTHESES) + 1)]
    for table, by_protocol in table_scores.items():
        cells = ["—" if p not in by_protocol else "incomplete" if by_protocol[p] is None
                 else f"{by_protocol[p]:.2f}" for p in HYPOTHESES]
        lines.append(f"| {TITLES[table]} | " + " | ".join(cells) +
                     f" | {choice[table] or 'not yet'} |")
    lines.append("")
    if any(s["seeds"] for p in HYPOTHESES for s in summaries[p]):
        plot_experiment(chosen_rows, summaries, os.path.join(folder, "protocols.png"))
        lines += ["![Each hypothesis on the experiment's rows](protocols.png)", ""]
    note = os.path.join(folder, "NOTES.md")
    if os.path.exists(note):
        with open(note) as f:
            lines += [f.read().strip(), ""]
    write_atomically(path, "\n".join(lines))
    return choice


def plot_book_vs_measured(summaries, path):
    colors = {"mlp": "tab:blue", "cnn": "tab:green", "rnn": "tab:orange"}
    markers = ["o", "s", "^", "D"]
    figure, axes = plt.subplots(figsize=(6.5, 6))
    points = [s for by_row in summaries.values() for s in by_row if s["seeds"]]
    values = [s["row"]["test"] for s in points] + [s["test"] for s in points]
    low = math.floor(min(values)) - 0.5
    high = min(100.0, math.ceil(max(values)) + 0.2)
    axes.fill_between([low, high], [low - TOLERANCE, high - TOLERANCE],
                      [low + TOLERANCE, high + TOLERANCE], color="0.9",
                      label=f"within ±{TOLERANCE} points")
    axes.plot([low, high], [low, high], color="0.5", linewidth=1)
    for (protocol, by_row), marker in zip(summaries.items(), markers):
        for table, color in colors.items():
            shown = [s for s in by_row if s["seeds"] and s["row"]["table"] == table]
            if not shown:
                continue
            axes.errorbar([s["row"]["test"] for s in shown], [s["test"] for s in shown],
                          yerr=[s["test_spread"] or 0 for s in shown], fmt=marker, color=color,
                          mfc="none" if protocol == LISTING else color, capsize=3,
                          label=f"{TITLES[table].split(':')[1].strip()}, {protocol}")
            for s in shown:
                axes.annotate(str(s["row"]["row"]), (s["row"]["test"], s["test"]), fontsize=7,
                              xytext=(4, 2), textcoords="offset points")
    axes.set(xlim=(low, high), ylim=(low, high), xlabel="book's test accuracy, %",
             ylabel="measured test accuracy, %", title="Chapter 1 tables: book vs measured")
    axes.legend(loc="upper left", fontsize=8)
    axes.grid(alpha=0.3)
    save(figure, path)


def plot_experiment(rows, summaries, path):
    figure, axes = plt.subplots(1, len(rows), figsize=(2.3 * len(rows), 3.6), squeeze=False)
    for i, (row, ax) in enumerate(zip(rows, axes[0])):
        names = [p for p in HYPOTHESES if row["table"] in protocol_tables(p)]
        for key, color, offset in (("train", "tab:gray", -0.12), ("test", "tab:blue", 0.12)):
            xs, ys, errors = [], [], []
            for x, p in enumerate(names):
                s = summaries[p][i]
                if s["seeds"]:
                    xs.append(x + offset)
                    ys.append(s[key])
                    errors.append(s[key + "_spread"] or 0)
            ax.errorbar(xs, ys, yerr=errors, fmt="o", color=color, capsize=2, label=key)
            ax.axhline(row[key], color=color, linestyle="--", linewidth=1)
        ax.set_xticks(range(len(names)), names, rotation=60, fontsize=7)
        ax.set_title(f"{row['id']} ({row['optimizer']})", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy, % (dashed: book)")
    axes[0][0].legend(fontsize=7)
    save(figure, path)


def save(figure, path):
    figure.tight_layout()
    try:
        with replacing(path, "wb", ".png") as f:
            figure.savefig(f, dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)
