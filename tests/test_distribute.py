"""--distribute without a GPU: mirrored over two logical CPU devices, multi-worker as two
processes on 127.0.0.1, and one-line errors when the hardware asked for is absent.

The same short run (the MLP listing, two epochs of full MNIST in batches of 512, seed 1: half
the updates of one epoch of 128, since each costs a round of communication) on one device,
mirrored and across two workers: each reaches the same test accuracy within noise.
"""
import json
import os
import socket
import subprocess
import sys

import pytest

import distribute
from conftest import ROOT, only_run_folder, read_record, run_script

SHORT_RUN = ["mlp_mnist.py", "--epochs", "2", "--batch-size", "512"]
SAME_WITHIN = 0.01  # one point of test accuracy; dropout draws differ per replica
WORKER_TIMEOUT_S = 300

pytestmark = pytest.mark.slow  # every test here starts training processes


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    results_dir = str(tmp_path_factory.mktemp("one_device"))
    completed = run_script(*SHORT_RUN, "--results-dir", results_dir)
    assert completed.returncode == 0, completed.stderr
    return read_record(only_run_folder(results_dir, "mlp_mnist"))


def test_one_device_is_the_default(one_device):
    assert one_device["distribution"] == {
        "distribute": "none", "engine": "Keras' default device placement", "replicas": 1,
        "workers": 1, "worker_index": 0, "devices": ["cpu:0"]}
    assert one_device["test_accuracy"] > 0.93  # it learned: the bar for the others


def test_mirrored_over_two_cpu_devices(one_device, results_dir):
    completed = run_script(*SHORT_RUN, "--distribute", "mirrored", "--cpu-devices", "2",
                           "--results-dir", results_dir)
    assert completed.returncode == 0, completed.stderr
    assert "devices: cpu:0, cpu:1 (mirrored: 2 replicas)" in completed.stdout
    record = read_record(only_run_folder(results_dir, "mlp_mnist"))
    assert record["devices"] == ["cpu:0", "cpu:1"]
    assert record["distribution"] == {
        "distribute": "mirrored", "engine": "tf.distribute.MirroredStrategy", "replicas": 2,
        "workers": 1, "worker_index": 0, "devices": ["cpu:0", "cpu:1"]}
    assert record["hyperparameters"]["batch_size"] == 512  # the global batch
    assert record["test_accuracy"] == pytest.approx(one_device["test_accuracy"], abs=SAME_WITHIN)


READY_AT = os.path.join(ROOT, "tests", "programs", "ready_at.py")


def test_multi_worker_two_processes_on_localhost(one_device, results_dir):
    """Each worker's port is held by this test until that worker says it is about to start its
    server (tests/programs/ready_at.py), then freed for it: no port borrowed and left free."""
    held = [socket.socket() for _ in range(2)]
    for s in held:
        s.bind(("127.0.0.1", 0))
    workers = [f"127.0.0.1:{s.getsockname()[1]}" for s in held]
    processes = []
    try:
        for index in range(2):
            config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            env = dict(os.environ, TF_CONFIG=json.dumps(config))
            processes.append(subprocess.Popen(
                [sys.executable, READY_AT, "call:distribute.strategies._multi_worker_strategy",
                 *SHORT_RUN, "--distribute", "multi-worker", "--results-dir", results_dir],
                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True))
        for process, s in zip(processes, held):
            assert process.stdout.readline() == "ready\n"
            s.close()
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=WORKER_TIMEOUT_S) for process in processes]
    finally:
        for process in processes:  # a worker left waiting for its peer must not outlive the test
            if process.poll() is None:
                process.kill()
                process.wait()
        for s in held:
            s.close()
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr
    chief_out, other_out = outputs[0][0], outputs[1][0]
    assert "(multi-worker: 2 replicas, worker 0 of 2)" in chief_out
    assert "(multi-worker: 2 replicas, worker 1 of 2)" in other_out
    assert other_out.splitlines()[-1] == "Results: written by worker 0 (this is worker 1)"

    record = read_record(only_run_folder(results_dir, "mlp_mnist"))  # worker 0's, alone
    assert record["distribution"] == {
        "distribute": "multi-worker", "engine": "tf.distribute.MultiWorkerMirroredStrategy",
        "replicas": 2, "workers": 2, "worker_index": 0, "devices": ["cpu:0"]}
    printed = [[line for line in out.splitlines() if line.startswith("Test accuracy")]
               for out in (chief_out, other_out)]
    assert printed[0] == printed[1] == [f"Test accuracy: {100 * record['test_accuracy']:.1f}%"]
    assert record["test_accuracy"] == pytest.approx(one_device["test_accuracy"], abs=SAME_WITHIN)


TF_CONFIG_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}\'')


@pytest.mark.parametrize("flags, tf_config, status, message", [
    (["--distribute", "multi-worker"], None, 2,
     "--distribute multi-worker needs TF_CONFIG, which lists the workers and says which one "
     f"this is, e.g. {TF_CONFIG_EXAMPLE}"),
    (["--distribute", "multi-worker"], '{"cluster": {"worker": ["a:1"]}, "task": {"index": 3}}', 2,
     "TF_CONFIG is not a cluster of workers with this task's index: "
     f"'{{\"cluster\": {{\"worker\": [\"a:1\"]}}, \"task\": {{\"index\": 3}}}}'; expected e.g. "
     f"{TF_CONFIG_EXAMPLE}"),
    (["--cpu-devices", "2"], None, 2,
     "argument --cpu-devices: only --distribute mirrored uses several CPU devices"),
], ids=["no-TF_CONFIG", "bad-TF_CONFIG", "cpu-devices-alone"])
def test_missing_cluster_or_bad_flag_is_one_line(flags, tf_config, status, message, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    if tf_config:
        env["TF_CONFIG"] = tf_config
    results_dir = tmp_path / "results"
    completed = run_script("rnn_mnist.py", *flags, "--results-dir", str(results_dir), env=env)
    assert completed.returncode == status
    assert completed.stderr.splitlines() == [f"rnn_mnist.py: error: {message}"]
    assert not results_dir.exists()


def test_no_tpu_is_one_line_before_keras_loads(tmp_path, monkeypatch):
    """No TPU device and no TPU named: said while the flags are checked (it took the Keras
    import and the cluster resolver's search, 15-25 s). A TPU named in TPU_NAME is left to
    the resolver."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TPU_NAME", "COLAB_TPU_ADDR")}
    results_dir = tmp_path / "results"
    completed = run_script("cnn_mnist.py", "--distribute", "tpu", "--results-dir",
                           str(results_dir), env={**env, "KERAS_BACKEND": "tensorflow"})
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "cnn_mnist.py: error: --distribute tpu: no TPU here (no /dev/accel* or /dev/vfio "
        "device, no TPU_NAME or COLAB_TPU_ADDR); run on a Cloud TPU VM, or set TPU_NAME to "
        "the TPU's name"]
    assert "Keras" not in completed.stdout  # the banner comes once Keras has loaded
    assert not results_dir.exists()
    monkeypatch.setenv("TPU_NAME", "my-tpu")
    assert distribute.tpu_in_sight()


def test_speed_settings_that_fail_under_tf_distribute_are_set_while_parsing(
        tmp_path, monkeypatch, capsys):
    """speed/ owns --steps-per-execution and --jit-compile: it sets what works under a strategy
    when the flags are read, and distribute/ rewrites none of them (issue 40)."""
    import mlp_mnist
    from companion import cli

    flags = ["--distribute", "mirrored", "--cpu-devices", "2", "--steps-per-execution", "8",
             "--jit-compile", "yes", "--results-dir", str(tmp_path)]
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    args = cli.parse(mlp_mnist.build_parser(), flags)
    assert (args.steps_per_execution, args.jit_compile) == (1, "auto")
    assert capsys.readouterr().out.splitlines() == [
        "note: --steps-per-execution 8 -> 1: Keras' TensorFlow trainer fails with more than one "
        "step per execution under tf.distribute (keras-team/keras#19246)",
        "note: --jit-compile yes -> auto under tf.distribute: XLA on GPUs and TPUs, not on CPU "
        "devices, whose mirrored variables it cannot reach"]
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # Keras' DataParallel takes them as they are
    args = cli.parse(mlp_mnist.build_parser(), flags[:2] + flags[4:])
    assert (args.steps_per_execution, args.jit_compile) == (8, "yes")
    with open(os.path.join(ROOT, "distribute", "strategies.py")) as f:
        assert "args.steps_per_execution" not in f.read()
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")  # the reader typed --fast, not a number
    capsys.readouterr()
    args = cli.parse(mlp_mnist.build_parser(), ["--fast", *flags[:4], *flags[-2:]])
    assert args.steps_per_execution == 1
    assert capsys.readouterr().out.startswith("note: --fast's steps per call: 16 -> 1: ")
