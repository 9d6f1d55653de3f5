"""Import rules, read from every import statement of the source (nothing is imported to check them).

- The one-way dependencies of docs/ARCHITECTURE.md between the packages, and between the test suite,
  the benchmarks and the harness they share (tests and benchmarks never import each other; the
  harness imports neither).
- No import circle inside a package: a module that imports, directly or not, a module that imports
  it back.

Imports inside functions count too (a lazy import still couples the modules), and so do
import_module()/import_string()/__import__() calls with a literal name.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"

FORBIDDEN = {
    "django-snappea": {"bugsink_ingest", "bugsink_issues", "bugsink_site"},
    "django-bugsink-ingest": {"snappea", "bugsink_issues", "bugsink_site"},
    "django-bugsink-issues": {"snappea", "bugsink_site"},
}
# Trees of the repository outside packages/, and what they must not import.
FORBIDDEN_IN_TREE = {
    "tests": {"benchmarks"},
    "benchmarks": {"tests"},
    "harness": {"tests", "benchmarks"},
}
# Each package whose modules must not import each other in a circle: name -> its directory.
CYCLE_FREE = {
    "snappea": PACKAGES / "django-snappea" / "src" / "snappea",
    "bugsink_ingest": PACKAGES / "django-bugsink-ingest" / "src" / "bugsink_ingest",
    "bugsink_issues": PACKAGES / "django-bugsink-issues" / "src" / "bugsink_issues",
    "bugsink_site": ROOT / "example_project" / "bugsink_site",
    "harness": ROOT / "harness",
}
_DYNAMIC_IMPORTS = {"import_module", "import_string", "__import__"}


def imports(source: str, module: str = "", is_package: bool = False) -> Iterator[tuple[int, str]]:
    """(line, absolute dotted name) of every import in `source`, anywhere in it.

    `module` (the dotted name of the source's module) resolves relative imports; without it they
    are left out. `from x import y` yields x.y: y is a submodule or a name in x, which the reader
    tells apart (the longest part of x.y that is a module).
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            if base is None:
                continue
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in _DYNAMIC_IMPORTS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str | None:
    if node.level == 0:
        return node.module or ""
    if not module:
        return None
    parts = module.split(".")
    # A package's own name is its __init__'s: "." there is the package itself.
    keep = len(parts) - node.level + (1 if is_package else 0)
    if keep < 1:
        return None
    return ".".join([*parts[:keep], *([node.module] if node.module else [])])


def violations(source_dir: Path, forbidden: set[str]):
    for path in sorted(source_dir.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        for lineno, module in imports(
            path.read_text()
        ):  # absolute ones: a relative one stays inside
            if module.split(".")[0] in forbidden:
                yield f"{path.relative_to(source_dir)}:{lineno} imports {module}"


# --- circles ---------------------------------------------------------------------------------------


def module_graph(package_dir: Path, package: str) -> dict[str, dict[str, int]]:
    """module -> {module of the same package it imports: line of the first such import}."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir).with_suffix("")
        parts = [package, *relative.parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, is_package)
    graph: dict[str, dict[str, int]] = {}
    for name, (path, is_package) in modules.items():
        edges = graph.setdefault(name, {})
        for lineno, target in imports(path.read_text(), name, is_package):
            # import_string("a.b.Name") and `from a import b`: the longest prefix that is a module.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            # A name of the module itself (`from . import name` in an __init__) is no edge. The
            # parent packages that an import runs first are not edges either: every submodule
            # would then be in a circle with an __init__ that imports it.
            if target and target != name:
                edges.setdefault(target, lineno)
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every group of modules that reach each other (strongly connected, Tarjan), as one circle
    through the group each: ["a", "b", "a"]."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_circle(graph, group) for group in sorted(groups)]


def _one_circle(graph: dict[str, dict[str, int]], group: list[str]) -> list[str]:
    """The shortest way from the group's first module back to itself, inside the group."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        next_frontier = []
        for node in frontier:
            for target in sorted(graph[node]):
                if target == start:
                    return [*paths[node], start]
                if target in members and target not in paths:
                    paths[target] = [*paths[node], target]
                    next_frontier.append(target)
        frontier = next_frontier
    raise AssertionError(f"no circle through {group}")  # a strongly connected group has one


def describe(graph: dict[str, dict[str, int]], circle: list[str]) -> str:
    return " -> ".join(
        f"{a} (line {graph[a][b]})" if i < len(circle) - 1 else a
        for i, (a, b) in enumerate(zip(circle, [*circle[1:], None], strict=True))
    )


# --- the tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_one_way_dependencies(package):
    package_dir = PACKAGES / package / "src"
    assert any(package_dir.rglob("*.py")), f"{package} has no sources"
    assert list(violations(package_dir, FORBIDDEN[package])) == []


@pytest.mark.parametrize("tree", sorted(FORBIDDEN_IN_TREE))
def test_tests_benchmarks_and_harness_keep_apart(tree):
    tree_dir = ROOT / tree
    assert any(tree_dir.rglob("*.py")), f"{tree} has no sources"
    assert list(violations(tree_dir, FORBIDDEN_IN_TREE[tree])) == []


@pytest.mark.parametrize("package", sorted(CYCLE_FREE))
def test_package_has_no_import_circle(package):
    graph = module_graph(CYCLE_FREE[package], package)
    assert len(graph) > 1, f"{package}: no modules found"
    found = [describe(graph, circle) for circle in circles(graph)]
    assert found == [], "import circles:\n" + "\n".join(found)


def test_the_rule_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "src" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("def f():\n    from snappea.backend import SnappeaBackend\n")
    found = list(violations(tmp_path / "src", FORBIDDEN["django-bugsink-ingest"]))
    assert len(found) == 1 and "snappea.backend" in found[0]


def test_the_rule_reads_subpackages(tmp_path):
    deep = tmp_path / "src" / "pkg" / "sub" / "deeper" / "mod.py"
    deep.parent.mkdir(parents=True)
    for init in ("pkg", "pkg/sub", "pkg/sub/deeper"):
        (tmp_path / "src" / init / "__init__.py").write_text("")
    deep.write_text("import importlib\nx = importlib.import_module('tests.settings')\n")
    found = list(violations(tmp_path / "src", FORBIDDEN_IN_TREE["harness"]))
    assert found == ["pkg/sub/deeper/mod.py:2 imports tests.settings"]


def _write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_the_circle_rule_catches_a_circle(tmp_path):
    # a -> sub.b (relative, at module level) -> c (in a function) -> a: one circle of three.
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from .sub import b\n",
            "sub/__init__.py": "",
            "sub/b.py": "def later():\n    from pkg import c\n",
            "c.py": "import os\n\nimport pkg.a\n",
            "d.py": "from pkg import a, c\n",  # imports the circle, is not in it
        },
    )
    graph = module_graph(package, "pkg")
    assert circles(graph) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]
    assert describe(graph, circles(graph)[0]) == (
        "pkg.a (line 1) -> pkg.sub.b (line 2) -> pkg.c (line 3) -> pkg.a"
    )


def test_the_circle_rule_reads_dynamic_and_parent_relative_imports(tmp_path):
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "from . import tasks\n",
            "tasks.py": "from django.utils.module_loading import import_string\n"
            "def run():\n    return import_string('pkg.sub.work.run')\n",
            "sub/__init__.py": "",
            "sub/work.py": "from ..tasks import run as again\n",
        },
    )
    assert circles(module_graph(package, "pkg")) == [["pkg.sub.work", "pkg.tasks", "pkg.sub.work"]]


def test_a_package_without_circles_passes(tmp_path):
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "from .api import thing\n",
            "api.py": "from .core import thing\n",
            "core.py": "from pkg import models\nthing = 1\n",
            "models.py": "import pkg.fields\n",
            "fields.py": "import json\n",
        },
    )
    graph = module_graph(package, "pkg")
    assert graph["pkg.api"] == {"pkg.core": 1} and circles(graph) == []
