"""What every package's own test_package checks alike: imports read from the source."""

import ast
from pathlib import Path


def modules(source: Path) -> list[Path]:
    return sorted(p for p in source.rglob("*.py") if "migrations" not in p.parts)


def imports_of(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def tasks_api_importers(source: Path) -> list[str]:
    """Modules other than compat.py that import Django's Tasks API or its backport."""
    return [
        f"{path.relative_to(source)}: {name}"
        for path in modules(source)
        if path.name != "compat.py"
        for name in imports_of(path)
        if name.split(".")[:2] == ["django", "tasks"] or name.split(".")[0] == "django_tasks"
    ]
