"""Bad flag values: exit status 2 and one line, before any data is loaded or file written."""
import os

import pytest

import cnn_mnist
import mlp_mnist
import mnist_samples
import rnn_mnist
from companion import mnist
from conftest import run_script

HUGE = "99999999999999999999"
WIDTHS = ("expected up to 64 widths from 1 to 65536, at most 100,000,000 weights in all, such as "
          "256-256-256")
CASES = [
    (mlp_mnist, ["--epochs", "-1"],
     "argument --epochs: expected an integer from 1 to 10000, got '-1'"),
    (mlp_mnist, ["--epochs", "ten"],
     "argument --epochs: expected an integer from 1 to 10000, got 'ten'"),
    (mlp_mnist, ["--epochs", HUGE],
     f"argument --epochs: expected an integer from 1 to 10000, got '{HUGE}'"),
    (mlp_mnist, ["--batch-size", HUGE],
     f"argument --batch-size: expected an integer from 1 to 60000, got '{HUGE}'"),
    (mlp_mnist, ["--dropout", "1.0"],
     "argument --dropout: dropout rate must be in [0, 1), got '1.0'"),
    (mlp_mnist, ["--dropout", "nan"], "argument --dropout: expected a finite number, got 'nan'"),
    (mlp_mnist, ["--optimizer", "adagrad"],
     "argument --optimizer: unknown optimizer 'adagrad' (choose from sgd, adam, rmsprop)"),
    (mlp_mnist, ["--hidden-units", "256-x-256"],
     "argument --hidden-units: layer list '256-x-256': " + WIDTHS),
    (mlp_mnist, ["--hidden-units", "256--256"],
     "argument --hidden-units: layer list '256--256': " + WIDTHS),
    # issue 43: widths a run cannot hold in memory, refused before Keras loads (were killed)
    (mlp_mnist, ["--hidden-units", "65536-65536"],
     "argument --hidden-units: layer list '65536-65536': " + WIDTHS),
    (mlp_mnist, ["--hidden-units", "-".join(["2048"] * 25)],
     "argument --hidden-units: layer list '" + "-".join(["2048"] * 15) + "...' (126 chars): "
     + WIDTHS),
    (cnn_mnist, ["--filters", "65536"], "argument --filters: expected an integer from 1 to 2048, "
     "got '65536'"),
    (mlp_mnist, ["--hidden-units", "9" * 1000],
     "argument --hidden-units: layer list '" + "9" * 74 + "...' (1002 chars): " + WIDTHS),
    (mlp_mnist, ["--l2", "-0.1"], "argument --l2: expected a number >= 0, got '-0.1'"),
    (mlp_mnist, ["--steps-per-execution", HUGE],
     f"argument --steps-per-execution: expected an integer from 1 to 100000 or 'epoch', got "
     f"'{HUGE}'"),
    (cnn_mnist, ["--batch-size", "0"],
     "argument --batch-size: expected an integer from 1 to 60000, got '0'"),
    (cnn_mnist, ["--filters", "1.5"],
     "argument --filters: expected an integer from 1 to 2048, got '1.5'"),
    (cnn_mnist, ["--kernel-size", "29"],
     "argument --kernel-size: expected an integer from 1 to 28, got '29'"),
    (rnn_mnist, ["--dropout", "-0.2"],
     "argument --dropout: dropout rate must be in [0, 1), got '-0.2'"),
    (rnn_mnist, ["--units", HUGE],
     f"argument --units: expected an integer from 1 to 2048, got '{HUGE}'"),
    (rnn_mnist, ["--cpu-devices", "1000"],
     "argument --cpu-devices: expected an integer from 1 to 64, got '1000'"),
    (mnist_samples, ["--seed", "-3"],
     "argument --seed: expected a seed from 0 to 4294967295, got '-3'"),
]


@pytest.fixture
def no_data_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("data was loaded despite a bad flag")

    monkeypatch.setattr(mnist, "load_data", refuse)


@pytest.mark.parametrize("script, flags, message", CASES,
                         ids=[f"{case[0].__name__}{' '.join(case[1])[:40]}" for case in CASES])
def test_bad_value_exits_2_with_one_line(script, flags, message, tmp_path, capsys,
                                         no_data_loading):
    results_dir = tmp_path / "results"
    with pytest.raises(SystemExit) as exit_info:
        script.main([*flags, "--results-dir", str(results_dir)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(f": error: {message}")
    assert not results_dir.exists()


def test_wide_layers_that_fit_are_taken_as_written():
    """The cap refuses what cannot train, not the tables' widths or a wide layer that fits."""
    from companion import cli

    assert cli.layer_widths("1024-1024-1024") == [1024, 1024, 1024]
    assert cli.layer_widths("8192,8192") == [8192, 8192]  # 74 million weights
    assert cli.layer_widths("65536") == [65536]
    assert cli.layer_width("2048") == 2048


def test_unknown_cell_is_refused(tmp_path, capsys, no_data_loading):
    with pytest.raises(SystemExit) as exit_info:
        rnn_mnist.main(["--cell", "transformer", "--results-dir", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert ": error: argument --cell: invalid choice: 'transformer'" in lines[0]


def test_results_dir_that_is_a_file(tmp_path, capsys, no_data_loading):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_info:
        mlp_mnist.main(["--results-dir", str(blocker / "runs")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{os.path.basename(__import__('sys').argv[0])}: error: argument --results-dir: "
        f"{str(blocker)!r} is not a directory"]
    assert blocker.read_text() == "not a folder"


def test_command_line_error_as_a_reader_sees_it(tmp_path):
    """The real command: exit status 2, the script's name, one line on stderr, nothing else."""
    results_dir = tmp_path / "results"
    completed = run_script("mlp_mnist.py", "--dropout", "1.5", "--results-dir", str(results_dir))
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.splitlines() == [
        "mlp_mnist.py: error: argument --dropout: dropout rate must be in [0, 1), got '1.5'"]
    assert not results_dir.exists()


def test_missing_backend_package_is_one_line(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="a_backend_that_does_not_exist")
    completed = run_script("cnn_mnist.py", "--results-dir", str(tmp_path / "r"), env=env)
    assert completed.returncode != 0
    assert len(completed.stderr.splitlines()) == 1, completed.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_help_lists_every_flag_with_book_default():
    completed = run_script("mlp_mnist.py", "--help")
    assert completed.returncode == 0
    text = " ".join(completed.stdout.split())
    for flag, default in [("--epochs", "20"), ("--batch-size", "128"), ("--optimizer", "adam"),
                          ("--dropout", "0.45"), ("--hidden-units", "256-256"),
                          ("--l2", "0.0"), ("--activation", "relu"), ("--seed", "1")]:
        assert flag in text
        assert f"(default: {default})" in text[text.index(flag):], flag


def test_help_lists_the_scripts_own_flags_before_the_shared_ones():
    text = mlp_mnist.build_parser().format_help()
    own, shared = text.index("--hidden-units WIDTHS\n"), text.index("--epochs N ")
    assert own < text.index("the flags every training script shares:") < shared
