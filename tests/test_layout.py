"""The layout a newcomer reads (issue 32): companion/ holds what a listing run needs and no
more, its map in companion/__init__.py is true, and imports run one way: scripts, then the
packages beside companion/, then companion/, never back up, with no cycle."""
import ast
import glob
import os

from conftest import ROOT

PACKAGES = ("companion", "distribute", "speed", "handwriting", "sentiment", "tables", "notebooks")
LISTINGS = ("mlp_mnist.py", "cnn_mnist.py", "rnn_mnist.py")


def lines(path):
    with open(path) as f:
        return sum(1 for _ in f)


def module_level_imports(path):
    """The first-party modules a file imports at module level (not inside a function), as
    'package.module' or 'package'."""
    found = set()
    for node in ast.parse(open(path).read()).body:
        nodes = [node] if isinstance(node, (ast.Import, ast.ImportFrom)) else \
            [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))] \
            if isinstance(node, (ast.If, ast.Try)) else []
        for imp in nodes:
            if isinstance(imp, ast.Import):
                found |= {alias.name for alias in imp.names}
            elif imp.module and imp.level == 0:
                found |= {imp.module} | {f"{imp.module}.{alias.name}" for alias in imp.names}
    return {name for name in found if name.split(".")[0] in PACKAGES}


def package_modules(package):
    return sorted(os.path.splitext(os.path.basename(path))[0]
                  for path in glob.glob(os.path.join(ROOT, package, "*.py")))


def test_companion_holds_at_most_1600_lines():
    total = sum(lines(path) for path in glob.glob(os.path.join(ROOT, "companion", "*.py")))
    assert total <= 1600, total


def test_the_map_names_every_module_in_the_order_imports_run():
    """Each companion module is named in the map, and imports at module level only modules
    named above it."""
    doc = ast.get_docstring(ast.parse(open(os.path.join(ROOT, "companion", "__init__.py")).read()))
    named = [word.strip(",") for line in doc.splitlines() if line.startswith("- ")
             for word in line[2:].split("  ")[0].split()]
    assert sorted(named) == [m for m in package_modules("companion") if m != "__init__"]
    for position, module in enumerate(named):
        imported = {name.split(".")[1] for name in
                    module_level_imports(os.path.join(ROOT, "companion", f"{module}.py"))
                    if name.startswith("companion.")}
        assert imported <= set(named[:position]), (module, imported - set(named[:position]))


def test_no_package_imports_upward_or_in_a_cycle():
    """companion/ imports no other package; the packages beside it import companion/ and none
    of one another but what the graph below allows, and nothing imports a script."""
    allowed = {"companion": set(), "distribute": {"companion"}, "speed": {"companion"},
               "handwriting": {"companion"}, "sentiment": {"companion"},
               "tables": {"companion"}, "notebooks": set()}
    for package, may_import in allowed.items():
        for path in glob.glob(os.path.join(ROOT, package, "*.py")):
            tops = {name.split(".")[0] for name in module_level_imports(path)} - {package}
            assert tops <= may_import, (path, tops - may_import)
            scripts = {os.path.splitext(os.path.basename(p))[0]
                       for p in glob.glob(os.path.join(ROOT, "*.py"))}
            tree = ast.parse(open(path).read())
            every = {alias.name.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.Import) for alias in node.names}
            every |= {node.module.split(".")[0] for node in ast.walk(tree)
                      if isinstance(node, ast.ImportFrom) and node.module}
            assert not every & scripts, (path, every & scripts)


def test_a_listing_imports_only_the_plumbing_it_runs_on():
    for script in LISTINGS:
        tops = {name.split(".")[0] for name in module_level_imports(os.path.join(ROOT, script))}
        assert tops == {"companion", "distribute", "speed"}, (script, tops)


def test_no_table_tooling_or_hypotheses_in_companion():
    text = "".join(open(path).read() for path in glob.glob(os.path.join(ROOT, "companion", "*.py")))
    for word in ("PROTOCOLS", "epochs-x4", "keras2-batch32", "book_tables", "TABLES.md"):
        assert word not in text, word


def test_the_tools_import_nothing_from_results_and_edit_no_sys_path():
    """reproduce.py and the packages edit no sys.path, so none imports from a results folder
    (research code beside its runs may put the repository on its own path)."""
    paths = [os.path.join(ROOT, "reproduce.py")] + [
        path for package in PACKAGES for path in glob.glob(os.path.join(ROOT, package, "*.py"))]
    for path in paths:
        tree = ast.parse(open(path).read())
        edits = [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                 and ast.unparse(node).startswith("sys.path.")]
        assert not edits, (path, edits)


def test_the_shared_command_line_stays_within_200_lines():
    """Issue 40: cli.py holds the flags every script shares; --fast's and --distribute's own
    flags and checks live in speed/ and distribute/."""
    assert lines(os.path.join(ROOT, "companion", "cli.py")) <= 200
    text = open(os.path.join(ROOT, "companion", "cli.py")).read()
    assert "--distribute" not in text and "--cpu-devices" not in text
