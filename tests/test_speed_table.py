"""benchmarks/speed_table.py: how it summarizes the runs, and speed.FAST held to its committed
record (a setting is in --fast on a CPU only for a listing whose row measured it to pay)."""
import json
import os

import pytest
import speed_table  # benchmarks/ is on pytest's pythonpath (pyproject.toml)

import speed
from conftest import ROOT

RECORD = os.path.join(ROOT, "results", "speed", "speed.json")


def run(*seconds, settings=None, fused=False):
    found = {"epoch_seconds": list(seconds)}
    if settings:
        found.update(settings=settings, execution={"fused": fused})
    return found


def test_medians_after_the_first_epoch_and_the_ratio_that_decides():
    measurements = {"mlp/jax": {
        "keras": [run(5.0, 2.0, 2.2), run(4.0, 2.4, 2.0)],
        "fast": [run(9.0, 1.5, 1.6), run(8.0, 1.4, 1.7)],
        "book": [run(6.0, 3.0, 3.0), {"error": "exit 1: no such file"}]}}
    measurements["mlp/jax"]["fast"][0].update(
        settings={"jit_compile": "auto", "steps_per_execution": 16},
        execution={"fused": True})
    row, = speed_table.rows(measurements)
    assert row["keras"] == {"median": 2.1, "first": 4.5, "rounds": 2}
    assert row["fast"]["median"] == pytest.approx(1.55)
    assert row["fast_speedup"] == pytest.approx(2.1 / 1.55)
    assert row["fast_pays"] is True  # 1.35 >= 1.25
    assert row["book"] == {"error": "exit 1: no such file"}
    assert row["fast_settings"] == {"jit_compile": "auto", "steps_per_execution": 16,
                                    "fused": True}
    text = speed_table.markdown({"command": "x", "date": "d", "machine": "m", "cores": 2,
                                 "load": [0.1, 0.2], "rounds": 2, "keras": "3", "rows": [row]})
    line = next(line for line in text.splitlines() if line.startswith("| mlp | jax"))
    assert line == ("| mlp | jax | 2.10 | 4.50 | 1.55 | 8.50 | 16 steps per call, one scan | "
                    "1.35 | yes | failed | failed | - |")
    slower = {"mlp/tensorflow": {"keras": [run(3.0, 1.0, 1.0)], "fast": [run(3.0, 0.9, 0.9)]}}
    assert speed_table.rows(slower)[0]["fast_pays"] is False  # 1.11 < 1.25


def test_fast_on_a_cpu_turns_on_only_what_the_committed_benchmark_measured_to_pay():
    with open(RECORD) as f:
        record = json.load(f)
    assert record["pays"] == speed_table.PAYS == 1.25
    measured = {(row["backend"], row["listing"]) for row in record["rows"]}
    assert measured == {(backend, listing) for backend in ("tensorflow", "jax")
                        for listing in ("mlp", "cnn", "rnn")}
    for row in record["rows"]:
        fast = speed.fast_settings(row["backend"], False, row["listing"])
        if row["fast_pays"]:  # what was measured, and nothing more
            settings = row["fast_settings"]
            assert fast == {"steps_per_execution": settings["steps_per_execution"],
                            **({"scan": True} if settings["fused"] else {})}, row["listing"]
        else:  # it did not pay: --fast turns nothing on for this listing here
            assert fast == {}, (row["backend"], row["listing"], row["fast_speedup"])
    # a backend or listing the benchmark did not measure on a CPU gets nothing
    assert speed.fast_settings("torch", False, "mlp") == {}
    assert speed.fast_settings("tensorflow", False, None) == {}  # the text script
