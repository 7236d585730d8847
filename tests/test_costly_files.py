"""Small files with large costs (issue 43): what a file will cost is checked before it is paid,
so a model file, a record, a book table or a picture that would exhaust memory or block gives
one line instead."""
import json
import os
import subprocess
import sys

import pytest

import predict_digit
from conftest import ROOT, rewritten_model
from handwriting import digits
from tables import book_tables, results_index


def ended_within(seconds, function, *args):
    """What `function(*args)` returned or the exception it raised, asked in a thread: a call
    that would block or read for ever fails the test instead of hanging the suite."""
    import threading

    outcome = []

    def call():
        try:
            outcome.append(function(*args))
        except Exception as error:  # the one the test expects, or any other: compared
            outcome.append(error)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"{function.__name__} still running after {seconds} s"
    return outcome[0]


def committed_cnn_with(tmp_path, change):
    """The committed CNN's model.keras with its config.json changed by `change(config)`."""
    def changed(members):
        members["config.json"] = json.dumps(change(json.loads(members["config.json"]))).encode()

    return rewritten_model(tmp_path, changed)


def dense_nested_in_a_sequential(config):
    inner = {"class_name": "Sequential", "config": {"name": "inner", "layers": [
        {"class_name": "Dense", "config": {"units": 2_000_000},
         "build_config": {"input_shape": [None, 4096]}}]}}
    config["config"]["layers"].append(inner)
    return config


def huge_conv1d(config):
    config["config"]["layers"].append(
        {"class_name": "Conv1D", "config": {"filters": 500_000, "kernel_size": [9]},
         "build_config": {"input_shape": [None, 100, 4096]}})
    return config


def bidirectional_lstm(config):
    config["config"]["layers"].append(
        {"class_name": "Bidirectional", "config": {"layer": {
            "class_name": "LSTM", "config": {"units": 200_000}}}})
    return config


@pytest.mark.parametrize("change", [dense_nested_in_a_sequential, huge_conv1d,
                                    bidirectional_lstm])
def test_layers_nested_or_of_other_kinds_count_toward_the_model_files_cost(tmp_path, change):
    path = committed_cnn_with(tmp_path, change)
    with pytest.raises(predict_digit.errors.UserError, match="its layers declare .* weights "
                                                             ".* but the file holds"):
        predict_digit.check_archive(path)


def test_a_configuration_nested_too_deep_is_one_line(tmp_path):
    """10,000 levels of wrapped layers: a RecursionError in json, not a traceback."""
    depth = 10_000
    deep = ('{"class_name": "Wrapper", "config": {"layer": ' * depth + "{}" + "}}" * depth)
    path = rewritten_model(tmp_path, lambda members: members.update(
        {"config.json": deep.encode()}))
    with pytest.raises(predict_digit.errors.UserError, match="nests too deep"):
        predict_digit.check_archive(path)


def test_the_committed_models_pass_the_check():
    for script in ("mlp", "cnn", "rnn"):
        predict_digit.check_archive(predict_digit.default_model(script))


@pytest.mark.parametrize("content", ["[1, 2, 3]", '{"command": 12}', "not json"])
def test_a_record_that_is_no_record_is_passed_over(tmp_path, content):
    path = tmp_path / "record.json"
    path.write_text(content)
    assert results_index.read_record(str(path)) is None


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="POSIX")
def test_a_record_or_book_table_linked_to_dev_zero_is_not_read(tmp_path):
    record = tmp_path / "record.json"
    record.symlink_to("/dev/zero")
    assert ended_within(30, results_index.read_record, str(record)) is None
    error = ended_within(30, book_tables.read_book_rows, "/dev/zero")
    assert isinstance(error, ValueError) and str(error) == "not a regular file"
    completed = subprocess.run([sys.executable, "reproduce.py", "--report", "--book-table",
                                "/dev/zero", "--results-dir", str(tmp_path)], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "reproduce.py: error: argument --book-table: cannot read '/dev/zero' (not a regular "
        "file)"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX")
def test_a_pipe_given_as_a_picture_is_one_line_not_a_wait(tmp_path):
    pipe = tmp_path / "photo.jpg"
    os.mkfifo(pipe)
    error = ended_within(30, digits.read_image, str(pipe))
    assert isinstance(error, digits.UserError) and "not a regular file" in str(error)


def test_a_model_file_cut_short_is_named_as_such(tmp_path):
    path = tmp_path / "model.keras"
    with open(predict_digit.default_model("cnn"), "rb") as f:
        path.write_bytes(f.read(3000))
    with pytest.raises(predict_digit.errors.UserError, match="not a Keras model .a .keras "
                                                             "file is a zip archive"):
        predict_digit.check_archive(str(path))


def test_a_training_that_memory_cannot_hold_is_one_line(monkeypatch):
    """The CNN listing in batches of 60000 took 20 GB and ended in a segmentation fault with
    nothing said (exit 139, measured on a 24 GB machine): it is refused before fit(), from an
    estimate of what training takes against this computer's memory (here a 16 GB one)."""
    import cnn_mnist
    from companion import lifecycle
    from companion.errors import UserError

    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 16 * 10**9 // 4096}
    monkeypatch.setattr(lifecycle.os, "sysconf", pages.__getitem__)
    model = cnn_mnist.build_model((28, 28, 1), 10, 64, 3, 2, 0.2)
    lifecycle.refuse_oversized(model, 128)  # the listing's batch, the CNN's largest part
    lifecycle.refuse_oversized(model, 8192)  # 5.1 GB measured
    with pytest.raises(UserError) as refused:
        lifecycle.refuse_oversized(model, 60000)
    assert str(refused.value) == ("training this model in batches of 60000 takes about 31 GB of "
                                  "memory, and this computer has 16 GB; try a smaller "
                                  "--batch-size or model")
    import numpy as np

    import lstm_gru_text  # masked words reach a recurrent layer as a list: its steps still count
    text = lstm_gru_text.build_model("lstm", 20000, np.zeros((20000, 50)), 2048, 0.3, 0.001,
                                     False, bidirectional=True)
    text.build((None, 40))
    lifecycle.refuse_oversized(text, 64)
    with pytest.raises(UserError, match="batches of 10000 takes about 106 GB"):
        lifecycle.refuse_oversized(text, 10000)


@pytest.mark.slow
def test_the_listing_refuses_it_before_training(tmp_path):
    """As a reader meets it: 2048 filters in batches of 60000 would take a terabyte."""
    results_dir = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "cnn_mnist.py", "--filters", "2048", "--batch-size", "60000",
         "--results-dir", str(results_dir)], cwd=ROOT, capture_output=True, text=True,
        timeout=300)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.splitlines()[-1].startswith(
        "cnn_mnist.py: error: training this model in batches of 60000 takes about ")
    assert len(completed.stderr.splitlines()) == 1, completed.stderr
    assert "Epoch 1/" not in completed.stdout
    assert not any(results_dir.rglob("record.json"))
