"""One real learning check: the MLP listing on all 60,000 training digits, for 2 epochs."""
import pytest

import mlp_mnist
from conftest import read_record


@pytest.mark.slow
def test_mlp_listing_reaches_96_percent_in_two_epochs(results_dir):
    folder = mlp_mnist.main(["--epochs", "2", "--results-dir", results_dir])
    record = read_record(folder)
    assert record["data"]["train_samples"] == 60000
    assert record["data"]["test_samples"] == 10000
    assert len(record["epochs"]) == 2
    assert record["epochs"][1]["loss"] < record["epochs"][0]["loss"]
    assert record["test_accuracy"] >= 0.96, record["test_accuracy"]
