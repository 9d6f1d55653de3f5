"""The one-way dependencies of ARCHITECTURE.md, enforced on every import statement in the packages.

Imports inside functions count too: a lazy import still couples the packages.
"""

import ast
from pathlib import Path

import pytest

PACKAGES = Path(__file__).resolve().parent.parent / "packages"

FORBIDDEN = {
    "django-snappea": {"bugsink_ingest", "bugsink_issues", "bugsink_site"},
    "django-bugsink-ingest": {"snappea", "bugsink_issues", "bugsink_site"},
    "django-bugsink-issues": {"snappea", "bugsink_site"},
}


def imported_modules(source: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in {"import_module", "import_string", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def violations(package_dir: Path, forbidden: set[str]):
    for path in sorted(package_dir.rglob("*.py")):
        for lineno, module in imported_modules(path.read_text()):
            if module.split(".")[0] in forbidden:
                yield f"{path.relative_to(package_dir)}:{lineno} imports {module}"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_one_way_dependencies(package):
    package_dir = PACKAGES / package / "src"
    assert any(package_dir.rglob("*.py")), f"{package} has no sources"
    assert list(violations(package_dir, FORBIDDEN[package])) == []


def test_the_rule_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "src" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("def f():\n    from snappea.backend import SnappeaBackend\n")
    found = list(violations(tmp_path / "src", FORBIDDEN["django-bugsink-ingest"]))
    assert len(found) == 1 and "snappea.backend" in found[0]
