"""The reports reproduce.py writes from the tables' records alone, never from numbers typed in:

- TABLES.md (and TABLES.png): each book row beside each reported protocol's mean ± spread over
  its seeds, with findings generated for every row that misses;
The protocol experiment's write-up is research, not a table: its own home,
results/investigations/protocols/ (protocol_experiment.py).
"""
import contextlib
import math
import os
import statistics
from datetime import datetime

from companion.files import replacing, write_atomically
from companion.plots import plt
from tables.book_tables import (
    CHOSEN,
    LISTING,
    PROTOCOLS,
    SCRIPTS,
    SEEDS,
    TITLES,
    TOLERANCE,
    failure,
    finished_record,
    table_runs_folder,
)


def record_minutes(record):
    started = datetime.fromisoformat(record["started"])
    finished = datetime.fromisoformat(record["finished"])
    return (finished - started).total_seconds() / 60


def summarize(row, runs_dir, seeds=None):
    """What one row's records under one protocol say: seeds, means, spreads, runs, failures;
    over every seed the row has, or over `seeds` only."""
    runs, failures = [], []
    present = seeds_present(runs_dir, row)
    for seed in sorted(present if seeds is None else set(present) & set(seeds)):
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


READ_ONCE = []  # while a report is written: {runs folder: run_folders()} (read_once)


@contextlib.contextmanager
def read_once():
    """Each runs folder listed once while a report is written: listed for each row, the
    report took time that grew with the square of the book table's rows."""
    READ_ONCE.append({})
    try:
        yield
    finally:
        READ_ONCE.pop()


def seeds_present(runs_dir, row):
    if not READ_ONCE:
        return run_folders(runs_dir).get(row["id"], [])
    if runs_dir not in READ_ONCE[-1]:
        READ_ONCE[-1][runs_dir] = run_folders(runs_dir)
    return READ_ONCE[-1][runs_dir].get(row["id"], [])


def run_folders(runs_dir):
    """{row id: its seeds} of the run folders in `runs_dir`."""
    seeds = {}
    for name in os.listdir(runs_dir) if os.path.isdir(runs_dir) else []:
        row_id, _, seed = name.rpartition("-seed")
        if row_id and seed.isdigit():
            seeds.setdefault(row_id, []).append(int(seed))
    return seeds


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
    if set(summary["seeds"]) != set(SEEDS):  # fewer seeds than the rule's, or more
        text += f" (seed{'s' if len(summary['seeds']) > 1 else ''} "
        text += ",".join(map(str, summary["seeds"])) + ")"
    return text


# two-sided 95% quantiles of Student's t by degrees of freedom (n - 1 for n seeds)
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
       9: 2.262, 10: 2.228}


def interval(summary):
    """The 95% interval of the mean test Δ (t with n - 1 degrees of freedom), or None."""
    n = len(summary["seeds"])
    if n < 2 or n - 1 not in T95:
        return None
    delta = summary["test"] - summary["row"]["test"]
    half = T95[n - 1] * summary["test_spread"] / math.sqrt(n)
    return delta - half, delta + half


def delta_cell(summary):
    if not summary["seeds"]:
        return "failed" if summary["failures"] else "not run"
    delta = summary["test"] - summary["row"]["test"]
    text = f"{delta:+.2f}"
    bounds = interval(summary)
    if bounds:
        text += f" [{bounds[0]:+.2f}, {bounds[1]:+.2f}]"
    return text + (" ✓" if abs(delta) <= TOLERANCE and complete(summary) else "")


def within_lines(summaries, protocol):
    """'N of 26 rows within 0.5 points (means over each row's seeds), protocol NAME' (+ what is
    missing), then
    the same count where the train accuracy is within the band too."""
    full = [s for s in summaries if complete(s)]
    test_within = [s for s in full if abs(s["test"] - s["row"]["test"]) <= TOLERANCE]
    both = sum(abs(s["train"] - s["row"]["train"]) <= TOLERANCE for s in test_within)
    line = (f"{len(test_within)} of {len(summaries)} rows within {TOLERANCE} points "
            f"(means over seeds {','.join(map(str, SEEDS))}), protocol {protocol}")
    if len(full) < len(summaries):
        seeds = ",".join(map(str, SEEDS))
        missing = len(summaries) - len(full)
        lack = "row does not" if missing == 1 else "rows do not"
        line += f"; {missing} {lack} have seeds {seeds} yet"
    return [line, f"{both} of {len(summaries)} rows with train and test within {TOLERANCE} "
                  f"points, protocol {protocol}"]


def fragile_rows(summaries):
    """Rows within the band on the mean whose 95% interval crosses the band's edge."""
    return [s["row"]["id"] for s in summaries if complete(s) and interval(s)
            and abs(s["test"] - s["row"]["test"]) <= TOLERANCE
            and max(abs(bound) for bound in interval(s)) > TOLERANCE]


def reported_protocols(also=None):
    """The listing and the protocol the experiment chose; and `also`, the protocol the reader's
    command ran, where it is not one of those."""
    protocols = [LISTING, CHOSEN]
    return protocols + ([also] if also and also not in protocols else [])


def write_tables_report(rows, results_dir, quick, also=None, evidence=None):
    with read_once():
        return compose_tables_report(rows, results_dir, quick, also, evidence)


def compose_tables_report(rows, results_dir, quick, also, evidence):
    """TABLES.md (TABLES_QUICK.md) and its figure, from the records: the protocols of
    reported_protocols(). `evidence(row)` gives what an experiment says of a row that misses:
    (label, line) or None (results/investigations/protocols/protocol_experiment.py)."""
    # a reader's report for a protocol the committed page does not show goes to its own file
    own = also not in (None, LISTING, CHOSEN) and not quick
    report_path = os.path.join(results_dir, "TABLES_QUICK.md" if quick else
                               f"TABLES-{also}.md" if own else "TABLES.md")
    protocols = reported_protocols(also)
    # the headline is over the seeds fixed before any run (SEEDS); seeds added to a row after
    # its first results have a section of their own
    every_seed = {p: [summarize(row, table_runs_folder(results_dir, p, row["table"], quick))
                      for row in rows] for p in protocols}
    summaries = {p: [summarize(row, table_runs_folder(results_dir, p, row["table"], quick),
                               SEEDS) for row in rows] for p in protocols}
    lines = ["# Chapter 1's tables: the book's accuracies and this project's", ""]
    if quick:
        lines += ["**Smoke mode (--quick): 2,048 training digits, one epoch. These numbers say "
                  "that the runner works, not what the models reach.**", ""]
    lines += [
        "Made by `python reproduce.py --protocol NAME --seeds 1,2,3`; regenerate without "
        "training: `python reproduce.py --report`. Accuracies in percent, mean ± standard "
        f"deviation over seeds {','.join(map(str, SEEDS))}, the seeds fixed before any run "
        "(seeds added to a few rows afterwards are shown apart, below); "
        "\"train\" is the last epoch's accuracy reported by `fit` (dropout active), as in the "
        f"book. Δ = measured test − book test, then in brackets the 95% interval of that mean "
        f"(Student's t, seeds − 1 degrees of freedom); ✓ marks |Δ| ≤ {TOLERANCE} over all "
        f"{len(SEEDS)} seeds or more. The Layers column is read as the hidden layers' widths "
        "(README). "
        "Protocols:", ""]
    lines += [f"- `{p}`: {PROTOCOLS[p]['about']}" for p in protocols] + [""]
    for table in SCRIPTS:
        indexes = [i for i, row in enumerate(rows) if row["table"] == table]
        if indexes:
            lines += table_section(table, [rows[i] for i in indexes],
                                   {p: [summaries[p][i] for i in indexes] for p in protocols},
                                   evidence)
    lines += ["## Summary", ""]
    for p in protocols:
        lines += [f"- {line}" for line in within_lines(summaries[p], p)]
        fragile = fragile_rows(summaries[p])
        if fragile:
            lines.append(f"- Within on the mean, but the 95% interval crosses the band's edge, "
                         f"protocol {p}: {', '.join(fragile)}")
    lines.append("")
    if any(s["seeds"] for p in protocols for s in summaries[p]):
        figure_path = os.path.splitext(report_path)[0] + ".png"
        plot_book_vs_measured(summaries, figure_path)
        lines += [f"![Book vs measured test accuracy]({os.path.basename(figure_path)})", ""]
    lines += added_seeds_section(every_seed)
    lines += runs_section(every_seed, os.path.dirname(report_path))
    write_atomically(report_path, "\n".join(lines))
    return report_path


def table_section(table, rows, summaries, evidence):
    """One book table: its rows beside each protocol's, then the findings for those that miss."""
    header = ["#", "Layers", "Regularizer", "Optimizer", "ReLU", "Book train", "Book test"]
    for p in summaries:
        header += [f"{p}: train", f"{p}: test", "Δ"]
    lines = [f"## {TITLES[table]}", "", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    for i, row in enumerate(rows):
        cells = [str(row["row"]), row["layers"], row["regularizer"], row["optimizer"],
                 row["relu"], f"{row['train']:.2f}", f"{row['test']:.2f}"]
        for p in summaries:
            s = summaries[p][i]
            cells += [accuracy_cell(s, "train"), accuracy_cell(s, "test"), delta_cell(s)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    findings, evidence_lines = [], []  # each experiment's evidence once for all its rows
    for i, row in enumerate(rows):
        cited = evidence(row) if evidence else None
        text = finding(row, {p: summaries[p][i] for p in summaries}, cited and cited[0])
        if text:
            findings.append(text)
            if cited and cited[1] not in evidence_lines:
                evidence_lines.append(cited[1])
    if findings:
        lines += ["Findings (generated from the records):", ""]
        lines += [f"- {text}" for text in findings + evidence_lines] + [""]
    return lines


def added_seeds_section(every_seed):
    """The rows that have seeds beyond SEEDS, added after their first results: the verdict over
    all their seeds beside the headline's."""
    lines = []
    for p, summaries in every_seed.items():
        for s in summaries:
            if set(s["seeds"]) - set(SEEDS) and complete(s):
                verdict = "within" if abs(s["test"] - s["row"]["test"]) <= TOLERANCE else "outside"
                lines.append(f"| {s['row']['id']} | {p} | {','.join(map(str, s['seeds']))} | "
                             f"{accuracy_cell(s, 'test')} | {delta_cell(s).rstrip(' ✓')} | "
                             f"{verdict} |")
    if not lines:
        return []
    return ["## Seeds added after the first results", "",
            f"These rows got seeds beyond {','.join(map(str, SEEDS))} after their first "
            "results, to narrow an interval: a stopping rule, not a plan, so the tables and the "
            "summary above leave them out. Over all their seeds:", "",
            "| row | protocol | seeds | test | Δ [95% interval] | within "
            f"{TOLERANCE} points |", "|---|---|---|---|---|---|", *lines, ""]


def runs_section(summaries, report_folder):
    """Which seeds each row has under each protocol, how long they took, where and with which
    speed settings each seed trained, and links."""
    lines = ["## Runs", "",
             "Each seed's machine (the CPU with its widest vector extensions, or the accelerator), "
             "backend and the compile() settings it trained with, from its record (\"not "
             "recorded\" where an older record holds none): XLA is "
             "jit_compile=True (\"auto\": Keras decides), then the steps per call, and "
             "\"scan\" where the compiled scan ran them (speed/scan.py: --scan now, --fast on "
             "JAX before). The same seed can reach another accuracy on another CPU "
             "(docs/tables.md).", ""]
    for p in summaries:
        lines += [f"Protocol `{p}`:", "", "| Row | Seeds | Minutes | Machine and settings, per "
                  "seed | Records |", "|---|---|---|---|---|"]
        for s in summaries[p]:
            if not s["seeds"] and not s["failures"]:
                continue
            links = ", ".join(f"[{seed}]({os.path.relpath(path, report_folder)})"
                              for seed, path in zip(s["seeds"], s["paths"]))
            links += "".join(f"; seed {seed} failed: {reason}" for seed, reason in s["failures"])
            minutes = f"{s['minutes']:.1f}" if s["seeds"] else "-"
            lines.append(f"| {s['row']['id']} | {','.join(map(str, s['seeds'])) or '-'} | "
                         f"{minutes} | {machines(s['seeds'], s['records'])} | {links} |")
        lines.append("")
    return lines


def machine_and_settings(record):
    """Where and how one run trained: 'Intel Xeon (avx512f), tensorflow, XLA, 16 steps'."""
    devices = [d for d in record.get("devices", []) if not d.startswith("cpu")]
    machine = record.get("machine", {})
    if devices:
        name = " ".join(filter(None, [record.get("accelerator"), ", ".join(devices)]))
    else:
        widest = [ext for ext in ("avx512f", "avx2", "avx", "neon", "asimd")
                  if ext in machine.get("vector_extensions", [])][:1]
        name = machine.get("processor", "?").replace("(R)", "").replace(" Processor", "")
        name += f" ({widest[0]})" if widest else " (extensions not recorded)"
    settings = record.get("hyperparameters", {})
    execution = record.get("execution") or {}
    jit = settings.get("jit_compile")
    steps = execution.get("steps_per_execution", settings.get("steps_per_execution"))
    described = [name, record.get("keras_backend", "?"),
                 {"yes": "XLA", "no": "no XLA", "auto": "jit auto", None: "jit not recorded"}
                 .get(jit, "jit auto"),
                 "steps per call not recorded" if steps is None else
                 f"{steps} step{'s' if steps != 1 else ''}"
                 + (" scan" if execution.get("fused") else "")]
    return ", ".join(described)


def machines_once(records):
    """The machines and settings these runs trained with, each named once."""
    names = []
    for record in records:
        if machine_and_settings(record) not in names:
            names.append(machine_and_settings(record))
    return "; ".join(names)


def machines(seeds, records):
    """Each seed's machine and settings, seeds that share them grouped: '1-3: ...; 4: ...'."""
    groups = []
    for seed, record in zip(seeds, records):
        text = machine_and_settings(record)
        if groups and groups[-1][1] == text:
            groups[-1][0].append(seed)
        else:
            groups.append(([seed], text))
    return "; ".join(f"{','.join(map(str, group))}: {text}" for group, text in groups)


def finding(row, by_protocol, evidence_label=None):
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
    if evidence_label:
        text += f" Evidence: the protocol experiment on {evidence_label} (below)."
    return text


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


def save(figure, path):
    figure.tight_layout()
    try:
        with replacing(path, "wb", ".png") as f:
            figure.savefig(f, dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)
