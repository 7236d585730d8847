"""Every command line the README, docs/ and the scripts' docstrings quote can be pasted into a
shell as it stands and is accepted by that script's own parser; and the README's statements of
what every script takes, and of the listings' defaults, hold in each script's parser."""
import argparse
import contextlib
import glob
import importlib
import io
import os
import re
import shlex

import pytest

from conftest import ROOT

SCRIPTS = ["mnist_samples", "mlp_mnist", "cnn_mnist", "rnn_mnist", "lstm_gru_text", "reproduce",
           "predict_digit", "redraw_figures", "concept_figures"]
PAGES = ["README.md"] + sorted(glob.glob("docs/*.md", root_dir=ROOT))
SHELL_OPERATORS = {"&&", "||", ";"}  # between commands; any other operator is a placeholder
DATA_FILE = re.compile(r"\.(keras|jpe?g|png|csv|json|txt)$")


def quoted_commands(text):
    """Command lines in a page or docstring: lines of ```bash blocks and indented docstring
    examples, and `inline` spans, that run one of the scripts with python."""
    lines = []
    for block in re.findall(r"```(?:bash|sh)?\n(.*?)```", text, flags=re.DOTALL):
        lines += block.splitlines()
    lines += re.findall(r"`([^`\n]+)`", text)
    lines += [line.strip() for line in text.splitlines() if line.startswith("    python")]
    script = re.compile(r"(^|\s)python3?\s+(\S+\.py)(\s|$)")
    return sorted({line.strip() for line in lines if script.search(line)})


def problems(command):
    """Why `command` cannot be pasted and run as it stands: a shell metacharacter that is not
    an operator between commands (a placeholder like <run>, or a | b), a file that does not
    exist, or flags its script's parser refuses. [] when it is fine."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, "#"
    try:
        tokens = list(lexer)
    except ValueError as error:
        return [f"does not parse as shell words: {error}"]
    found, segment = [], []
    for token in tokens + [";"]:
        if token in SHELL_OPERATORS:
            found += segment_problems(segment)
            segment = []
        elif set(token) <= set("<>|&;()"):
            found.append(f"shell operator {token!r} inside a command (a placeholder?)")
        else:
            segment.append(token)
    return found


def segment_problems(words):
    while words and "=" in words[0] and not words[0].startswith("-"):  # KERAS_BACKEND=jax ...
        words = words[1:]
    if len(words) < 2 or not re.fullmatch(r"python3?", words[0]) or \
            not words[1].endswith(".py"):
        return []
    name = os.path.splitext(os.path.basename(words[1]))[0]
    expanded = []  # the shell's own expansion of a pattern, from the repository root
    for word in words[2:]:
        matches = sorted(glob.glob(word, root_dir=ROOT)) if glob.has_magic(word) else []
        expanded += [os.path.join(ROOT, match) for match in matches] or [word]
    words = words[:2] + expanded
    found = [f"{word}: no such file" for word in words[2:]
             if DATA_FILE.search(word) and "/" in word
             and not os.path.exists(os.path.join(ROOT, word))]
    if name in SCRIPTS and os.path.dirname(words[1]) == "":
        parser = importlib.import_module(name).build_parser()
        error = io.StringIO()
        try:
            with contextlib.redirect_stderr(error):
                parser.parse_args(words[2:])
        except SystemExit:
            found.append(f"refused by {words[1]}: {error.getvalue().strip()}")
    elif not os.path.exists(os.path.join(ROOT, words[1])):
        found.append(f"{words[1]}: no such script")
    return found


def documents():
    pages = {page: open(os.path.join(ROOT, page)).read() for page in PAGES}
    for name in SCRIPTS:
        pages[f"{name}.py"] = importlib.import_module(name).__doc__
    return pages


@pytest.mark.parametrize("page", PAGES + [f"{name}.py" for name in SCRIPTS])
def test_every_quoted_command_pastes_and_parses(page):
    text = documents()[page]
    commands = quoted_commands(text)
    found = {command: problems(command) for command in commands}
    assert {command: issue for command, issue in found.items() if issue} == {}


def test_the_check_catches_what_a_shell_or_a_parser_would_refuse():
    assert problems("python mlp_mnist.py --hidden-units 256-256-256 --dropout 0.4") == []
    assert problems("python3 -m venv .venv && . .venv/bin/activate && python mlp_mnist.py") == []
    assert problems("KERAS_BACKEND=jax python rnn_mnist.py --units 512  # a row") == []
    assert problems("python predict_digit.py --model results/cnn_mnist/<run>/model.keras x.jpg")
    assert problems("python reproduce.py --protocol listing|experiment-choice --seeds 1,2,3")
    assert problems("python mlp_mnist.py --dropot 0.4")  # a misspelt flag
    assert problems("python cnn_mnist.py --optimizer adagrad")  # a value the parser refuses
    assert problems("python predict_digit.py docs/handwriting/eight.jpg")  # a missing file


def test_the_readme_quotes_commands_for_every_listing():
    commands = quoted_commands(documents()["README.md"])
    for script in ("mlp_mnist.py", "cnn_mnist.py", "rnn_mnist.py", "reproduce.py",
                   "predict_digit.py"):
        assert any(script in command for command in commands), script


def options(name):
    parser = importlib.import_module(name).build_parser()
    return {option: action for action in parser._actions for option in action.option_strings}


def test_what_the_readme_says_every_script_takes():
    for name in SCRIPTS:
        taken = options(name)
        assert "--help" in taken, name
        if name == "redraw_figures":
            assert not {"--results-dir", "--dry-run", "--seed"} & set(taken)
            continue
        assert taken["--results-dir"].default == "results", name
        if name == "reproduce":
            assert not {"--seed", "--dry-run"} & set(taken)
            assert {"--seeds", "--quick", "--fast"} <= set(taken)
        else:
            assert taken["--seed"].default == 1, name
            assert isinstance(taken["--dry-run"], argparse._StoreTrueAction), name


LISTING_DEFAULTS = {  # the README's table of scripts, and the listings themselves
    "mlp_mnist": {"--epochs": 20, "--batch-size": 128, "--optimizer": "adam", "--dropout": 0.45,
                  "--hidden-units": "256-256", "--activation": "relu", "--l2": 0.0},
    "cnn_mnist": {"--epochs": 10, "--batch-size": 128, "--optimizer": "adam", "--dropout": 0.2,
                  "--filters": 64, "--kernel-size": 3, "--pool-size": 2},
    "rnn_mnist": {"--epochs": 20, "--batch-size": 128, "--optimizer": "sgd", "--dropout": 0.2,
                  "--units": 256, "--cell": "simple"},
}


@pytest.mark.parametrize("name", sorted(LISTING_DEFAULTS))
def test_the_listings_defaults_are_the_books(name):
    taken = options(name)
    for option, value in LISTING_DEFAULTS[name].items():
        assert taken[option].default == value, option
    # speed is opt-in: a default run is Keras' own path
    assert taken["--fast"].default is False
    assert taken["--distribute"].default == "none" and taken["--cpu-devices"].default == 1
    readme = documents()["README.md"]
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}.py`"))
    assert f"{LISTING_DEFAULTS[name]['--epochs']} epochs" in row
