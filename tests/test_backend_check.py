"""benchmarks/backend_check.py: the listing on each backend, as a table a reader can commit."""
import os

import pytest

import speed
from conftest import run_script


def test_unknown_backend_is_refused(tmp_path):
    completed = run_script("benchmarks/backend_check.py", "--backends", "theano",
                           "--output", os.path.join(tmp_path, "x.md"))
    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1].endswith("unknown or no backend or script: theano")


@pytest.mark.slow
def test_check_runs_each_listing_both_ways_from_the_runs_records(tmp_path):
    """On JAX, the GPU machines' backend (TensorFlow's smoke runs are tests/test_scripts.py)."""
    output, runs = tmp_path / "BACKENDS.md", tmp_path / "runs"
    completed = run_script("benchmarks/backend_check.py", "--quick", "--backends", "jax",
                           "--scripts", "mlp", "--compare-paths",
                           "--results-dir", str(runs), "--output", str(output))
    assert completed.returncode == 0, completed.stderr
    lines = output.read_text().splitlines()
    assert lines[0].startswith("# The listings on each backend: ")
    assert "backend_check.py --quick --backends jax --scripts mlp --compare-paths" in lines[2]
    rows = [line.strip("|").split("|") for line in lines if line.startswith("| ") and
            "mlp_mnist.py" in line]
    fast = speed.fast_settings("jax", False, "mlp")  # what --fast turns on here, a CPU
    fast_calls = str(fast.get("steps_per_execution", 1)) + (" fused" if fast.get("scan") else "")
    assert [[cell.strip() for cell in row][:5] for row in rows] == [
        ["jax", "mlp_mnist.py", "defaults", "1", "cpu:0"],
        ["jax", "mlp_mnist.py", "--fast", fast_calls, "cpu:0"]]
    for row in rows:
        accuracy = float(row[5].strip().rstrip("%"))
        assert 10.0 < accuracy <= 100.0  # 2,048 digits, one epoch: well above chance
        assert float(row[6]) > 0
    assert len(os.listdir(runs / "mlp_mnist")) == 2  # the runs' folders were kept
