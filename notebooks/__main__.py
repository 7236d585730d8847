"""Notebooks from the scripts: each listing as a notebook to open beside the book.

    python -m notebooks              # write each notebook whose script changed (no outputs)
    python -m notebooks --check      # exit 1 when a notebook's cells are not its script's
    python -m notebooks --execute    # write them and run each with its script's defaults

The script stays the one source. A notebook's cells come from it in order: the docstring as
text, the flags' defaults as one parameter cell, the imports, then one cell per step of main(),
each with the function it calls defined above the call, so that a step's output (the model's
summary, the per-epoch log, the test accuracy) shows under its code; the run's figures last.
jupytext would convert a script cell for cell as it is written; these scripts' steps are
functions that main() calls, so the cells are cut here with `ast` and written with nbformat.
"""
import argparse
import ast
import importlib
import os
import sys
import textwrap

import nbformat

from notebooks.kernel import LEFT_OUT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "notebooks")
SCRIPTS = ("mnist_samples.py", "mlp_mnist.py", "cnn_mnist.py", "rnn_mnist.py",
           "lstm_gru_text.py")

SETUP = '''\
# Not in the script: the notebook runs in the project's folder, as the script does. Outside the
# project (Colab, say), set PROJECT_GIT_URL: this cell clones the project and installs its
# pinned requirements (requirements.txt) first.
import os
import subprocess
import sys

PROJECT_GIT_URL = ""
for root in (os.getcwd(), os.path.dirname(os.getcwd()), os.path.abspath("adl-keras-chapter1")):
    if os.path.isfile(os.path.join(root, "companion", "__init__.py")):
        break
else:
    if not PROJECT_GIT_URL:
        raise SystemExit("Open this notebook from the project's notebooks/ folder, or set "
                         "PROJECT_GIT_URL to the project's git URL")
    subprocess.run(["git", "clone", "-q", PROJECT_GIT_URL, root], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r",
                    os.path.join(root, "requirements.txt")], check=True)
os.chdir(root)
sys.path.insert(0, root)'''


def lines_above(lines, lineno, floor):
    """The 0-based index where the comment lines directly above line `lineno` start."""
    start = lineno - 1
    while start - 1 >= floor and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def segment(lines, node, floor=0):
    """A top-level node's source with the comments directly above it."""
    return "\n".join(lines[lines_above(lines, node.lineno, floor):node.end_lineno])


def called_names(node):
    return {call.func.id for call in ast.walk(node)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)}


def is_main_guard(node):
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def parameter_cell(module_name, parser):
    """The flags' defaults, one line each, as the command line takes them."""
    rows = [f"# the script's flags and their defaults (python {module_name}.py --help): edit a",
            "# value as you would type it after its flag, then run the cells below",
            "flags = dict("]
    for action in parser._actions:
        if action.dest in LEFT_OUT or not action.option_strings:
            continue
        rows.append(f"    {action.dest}={action.default!r},")
    return "\n".join([*rows, ")"])


def main_steps(lines, main_node, functions):
    """main()'s statements in cells: each cell ends at a call of one of the script's functions
    not yet defined, and defines it (and what it calls) first. The argument parsing becomes
    the parameter cells; `return X` keeps X in the notebook."""
    defined, cells, pending = set(), [], []
    floor = main_node.body[0].lineno - 1
    if isinstance(main_node.body[0], ast.Expr):  # the docstring
        floor = main_node.body[0].end_lineno
    for statement in main_node.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        start = lines_above(lines, statement.lineno, floor)
        text = textwrap.dedent("\n".join(lines[start:statement.end_lineno]))
        floor = statement.end_lineno
        if isinstance(statement, ast.Return):
            kept = "" if isinstance(statement.value, ast.Name) else "folder = "
            text = text.replace("return ", kept, 1)
        pending.append(text.strip("\n"))
        needed = []
        for name in in_source_order(called_names(statement), functions):
            needed += [n for n in dependencies(name, functions)
                       if n not in defined and n not in needed]
        if needed:
            defined |= set(needed)
            cells.append((needed, pending))
            pending = []
    if pending:
        cells.append(([], pending))
    return cells


def in_source_order(names, functions):
    """`names` with the script's functions among them in the order the script defines them."""
    return sorted(names, key=lambda name: functions.get(name, (0,))[0])


def dependencies(name, functions, seen=()):
    """`name` and the script's functions it calls, the called ones first."""
    if name not in functions or name in seen:
        return []
    order = []
    for called in in_source_order(called_names(functions[name][2]), functions):
        order += [n for n in dependencies(called, functions, (*seen, name)) if n not in order]
    return [*order, name]


def heading(name, node, lines):
    """A step's title: the function's name and its docstring's first sentence, else its first
    comment."""
    doc = ast.get_docstring(node)
    if doc:
        sentence = doc.replace("\n", " ").split(". ")[0].split(";")[0].rstrip(".")
    else:
        comments = [line.strip() for line in lines[node.lineno:node.end_lineno]
                    if line.strip().startswith("#")]
        sentence = comments[0].lstrip("# ") if comments else ""
    return f"### `{name}()`" + (f": {sentence}" if sentence else "")


def cells_of(script, source, parser):
    """The notebook of `script` (its file name) whose text is `source`."""
    module_name = os.path.splitext(script)[0]
    lines = source.splitlines()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or ""
    title, _, body = doc.partition("\n")
    new = nbformat.v4
    cells = [new.new_markdown_cell(
        f"# {title}\n\nGenerated from `{script}` by `python -m notebooks`: edit the script, then "
        f"run that command.\n\n" + body.strip()),
        new.new_code_cell(SETUP)]
    parameters = new.new_code_cell(parameter_cell(module_name, parser))
    parameters.metadata["tags"] = ["parameters"]
    cells.append(parameters)

    functions, top, main_node = {}, [], None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            if node.name == "main":
                main_node = node
            functions[node.name] = (node.lineno, segment(lines, node), node)
        elif isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign)):
            top.append(segment(lines, node))
        elif not (is_main_guard(node) or isinstance(node, ast.Expr)):
            raise ValueError(f"{script}:{node.lineno}: no cell for a top-level "
                             f"{type(node).__name__}")
    cells.append(new.new_code_cell("\n".join(top)))

    parse = main_node.body[1] if ast.get_docstring(main_node) else main_node.body[0]
    imported = sorted({node.id for node in ast.walk(parse) if isinstance(node, ast.Name)}
                      & set(functions))
    parse_text = ast.unparse(parse).replace("build_parser()", "parser")
    cells.append(new.new_code_cell(
        "# not in the script: the values above, checked as the command line's are\n"
        f"from {module_name} import {', '.join(imported)}\n"
        "from notebooks import kernel\n\n"
        f"__file__ = {script!r}  # a kernel has none; the run's folder is named after it\n"
        f"parser, argv = kernel.command_line({script!r}, flags, build_parser)\n"
        + parse_text))
    main_node.body = [s for s in main_node.body if s is not parse]

    for names, statements in main_steps(lines, main_node, functions):
        if names:
            cells.append(new.new_markdown_cell(
                "\n\n".join(heading(name, functions[name][2], lines) for name in names)))
        cells.append(new.new_code_cell(
            "\n\n\n".join([*(functions[name][1] for name in names), "\n".join(statements)])))
    cells.append(new.new_code_cell(
        "# not in the script: the figures the run wrote into its folder\n"
        f"kernel.show_figures({script!r}, args.results_dir)"))
    notebook = new.new_notebook(cells=cells)
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                        "name": "python3"},
                         "language_info": {"name": "python"}}
    for number, cell in enumerate(notebook.cells):
        cell.id = f"{module_name.replace('_', '-')}-{number}"
    return notebook


def notebook_path(script):
    return os.path.join(FOLDER, os.path.splitext(script)[0] + ".ipynb")


def generated(script):
    """The notebook that `script` gives now."""
    module = importlib.import_module(os.path.splitext(script)[0])
    with open(os.path.join(ROOT, script), encoding="utf-8") as file:
        return cells_of(script, file.read(), module.build_parser())


def differences(committed, made):
    """The cells where two notebooks' sources differ: type and text, not outputs."""
    def sources(notebook):
        return [(cell.cell_type, cell.source) for cell in notebook.cells]
    old, new = sources(committed), sources(made)
    found = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
    if len(old) != len(new):
        found.append(min(len(old), len(new)))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scripts", nargs="*", metavar="SCRIPT",
                        help="the scripts whose notebooks to make (default: all)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="compare each committed notebook's cells with its script's; write "
                           "nothing")
    mode.add_argument("--execute", action="store_true",
                      help="run each notebook after writing it, with its outputs kept (a "
                           "full training run: minutes for each listing on a CPU)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scripts) - set(SCRIPTS))
    if unknown:
        parser.error(f"no notebook for {', '.join(unknown)}; the scripts: {', '.join(SCRIPTS)}")
    stale = []
    for script in args.scripts or SCRIPTS:
        made, path = generated(script), notebook_path(script)
        if args.check:
            if not os.path.isfile(path):
                stale.append(f"{os.path.relpath(path, ROOT)}: missing")
                continue
            cells = differences(nbformat.read(path, as_version=4), made)
            if cells:
                stale.append(f"{os.path.relpath(path, ROOT)}: cells {cells} differ from "
                             f"{script}'s")
            continue
        if not args.execute and os.path.isfile(path) and \
                not differences(nbformat.read(path, as_version=4), made):
            print(f"{os.path.relpath(path, ROOT)}: unchanged, its outputs kept")
            continue
        if args.execute:
            execute(made)
        nbformat.write(made, path)
        print(f"wrote {os.path.relpath(path, ROOT)}"
              + ("" if args.execute else f" without outputs (python -m notebooks --execute "
                                         f"{script} runs it)"))
    if stale:
        print("\n".join(stale) + "\nregenerate them: python -m notebooks", file=sys.stderr)
        return 1
    return 0


def execute(notebook, parameters=None, timeout=None):
    """Run `notebook` in a fresh kernel from the notebooks folder; `parameters` (code, such as
    `flags.update(dry_run=True)`) runs right after the parameter cell. The outputs are kept,
    their timing metadata dropped."""
    from nbclient import NotebookClient

    if parameters:
        at = next(i for i, cell in enumerate(notebook.cells)
                  if "parameters" in cell.metadata.get("tags", ()))
        notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(parameters, id="injected"))
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": FOLDER}}).execute()
    if parameters:
        notebook.cells = [c for c in notebook.cells if c.get("id") != "injected"]
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return notebook


if __name__ == "__main__":
    sys.exit(main())
