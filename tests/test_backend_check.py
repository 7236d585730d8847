"""benchmarks/backend_check.py: the listing on each backend, as a table a reader can commit."""
import os

import pytest

from conftest import run_script


@pytest.mark.slow
def test_check_writes_one_row_per_backend_from_the_runs_records(tmp_path):
    output = tmp_path / "BACKENDS.md"
    completed = run_script("benchmarks/backend_check.py", "--quick", "--backends",
                           "tensorflow,jax", "--scripts", "mlp", "--unfused",
                           "--output", str(output))
    assert completed.returncode == 0, completed.stderr
    lines = output.read_text().splitlines()
    assert lines[0].startswith("# The listings on each backend: ")
    rows = [line.strip("|").split("|") for line in lines if line.startswith("| ") and
            "mlp_mnist.py" in line]
    assert [[cell.strip() for cell in row][:5] for row in rows] == [
        ["tensorflow", "mlp_mnist.py", "defaults", "16", "cpu:0"],
        ["tensorflow", "mlp_mnist.py", "--steps-per-execution 1", "1", "cpu:0"],
        ["jax", "mlp_mnist.py", "defaults", "16 fused", "cpu:0"],
        ["jax", "mlp_mnist.py", "--steps-per-execution 1", "1", "cpu:0"]]
    for row in rows:
        accuracy = float(row[5].strip().rstrip("%"))
        assert 10.0 < accuracy <= 100.0  # 2,048 digits, one epoch: well above chance
        assert float(row[6]) > 0


def test_unknown_backend_is_refused(tmp_path):
    completed = run_script("benchmarks/backend_check.py", "--backends", "theano",
                           "--output", os.path.join(tmp_path, "x.md"))
    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1].endswith("unknown or no backend or script: theano")


@pytest.mark.slow
def test_compare_paths_runs_each_listing_three_ways_and_keeps_the_runs(tmp_path):
    output, runs = tmp_path / "PATHS.md", tmp_path / "runs"
    completed = run_script("benchmarks/backend_check.py", "--quick", "--backends", "jax",
                           "--scripts", "mlp", "--compare-paths", "--results-dir", str(runs),
                           "--output", str(output))
    assert completed.returncode == 0, completed.stderr
    text = output.read_text()
    assert "backend_check.py --quick --backends jax --scripts mlp --compare-paths" in text
    rows = [[cell.strip() for cell in line.strip("|").split("|")][:4]
            for line in text.splitlines() if "mlp_mnist.py" in line]
    assert rows == [["jax", "mlp_mnist.py", "--steps-per-execution 1", "1"],
                    ["jax", "mlp_mnist.py", "--device-data no", "16 fused"],
                    ["jax", "mlp_mnist.py", "defaults", "16 fused"]]  # a CPU: data stays put
    assert len(os.listdir(runs / "mlp_mnist")) == 3
