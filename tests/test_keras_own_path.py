"""A default run is the listing on Keras' own path: compile() with the listing's arguments,
Keras' own fit(), nothing in Keras replaced or assigned; --fast alone changes that."""
import json
import os
import subprocess
import sys

import pytest
from test_scan import needs_jax

from conftest import ROOT

PROGRAM = os.path.join(ROOT, "tests", "programs", "keras_untouched.py")


def untouched(backend, results_dir, *flags, as_accelerator=False):
    completed = subprocess.run(
        [sys.executable, PROGRAM, *(["--as-accelerator"] if as_accelerator else []),
         "mlp_mnist", "--dry-run", "--results-dir", results_dir, *flags],
        cwd=ROOT, text=True, capture_output=True, timeout=600,
        env={**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": ROOT})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", pytest.param("jax", marks=needs_jax)])
def test_a_default_run_leaves_keras_as_it_was(backend, results_dir):
    report = untouched(backend, results_dir)
    assert report["backend"] == backend
    assert report["changed"] == []  # every keras function, class and attribute the same object
    assert report["overridden"] == []  # no model holds a fit() of its own
    assert report["execution"] == {"steps_per_execution": 1, "fused": False,
                                   "device_data": False}
    hyperparameters = report["hyperparameters"]
    assert (hyperparameters["fast"], hyperparameters["jit_compile"],
            hyperparameters["steps_per_execution"]) == (False, "auto", 1)
    # what a newcomer reads behind a listing: at most 1,500 lines of companion/ (issue 32)
    assert "companion/cli.py" in report["companion_loaded"]
    assert sum(report["companion_loaded"].values()) <= 1500, report["companion_loaded"]


@needs_jax
@pytest.mark.slow
def test_the_check_sees_what_scan_replaces_on_jax(results_dir):
    """The same check can fail: --scan as on a JAX GPU or TPU (the scan from the device), and
    the model's fit machinery is its own."""
    report = untouched("jax", results_dir, "--scan", as_accelerator=True)
    assert {"fit", "make_train_function"} <= set(report["overridden"])
    assert report["execution"] == {"steps_per_execution": 16, "fused": True,
                                   "device_data": True}
