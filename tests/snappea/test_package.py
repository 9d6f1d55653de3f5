"""The package as a whole: its version, its public API, its import rules, its migrations."""

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.util import find_spec
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils.module_loading import import_string

import snappea
from harness.processes import ROOT
from tests.package_rules import modules as package_modules
from tests.package_rules import tasks_api_importers

PACKAGE = ROOT / "packages" / "django-snappea"
SOURCE = PACKAGE / "src" / "snappea"


def modules():
    return package_modules(SOURCE)


def test_version_is_pyprojects():
    pyproject = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert snappea.__version__ == pyproject["project"]["version"]


def test_py_typed_is_shipped():
    assert (SOURCE / "py.typed").exists()
    pyproject = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["*"]


def public_names():
    return re.findall(r"``(snappea\.\w+\.\w+)``", snappea.__doc__)


def test_the_public_api_exists_and_is_what_the_readme_shows():
    names = public_names()
    assert len(names) == 4
    for name in names:
        import_string(name)
    readme = (PACKAGE / "README.md").read_text()
    for name in names:
        module, attr = name.rsplit(".", 1)
        assert f"from {module} import {attr}" in readme or name in readme, name
    # The README imports nothing else of snappea.
    imported = set(re.findall(r"from (snappea[\w.]*) import (\w+)", readme))
    assert {f"{m}.{a}" for m, a in imported} <= set(names)


def test_only_compat_imports_the_tasks_api():
    assert tasks_api_importers(SOURCE) == []


def test_task_results_are_built_in_results_py_only():
    builders = [
        path.relative_to(SOURCE).as_posix()
        for path in modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "TaskResult"
    ]
    assert builders == ["results.py"]


def test_compat_prefers_django_tasks_where_django_ships_it():
    from snappea import compat

    expected = "django.tasks" if find_spec("django.tasks") else "django_tasks"
    assert compat.Task.__module__.split(".base")[0] == expected


def test_a_clear_import_error_without_any_tasks_api():
    hide = "import sys; sys.modules['django.tasks'] = sys.modules['django_tasks'] = None; "
    proc = subprocess.run(
        [sys.executable, "-c", hide + "import snappea.compat"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "ImportError: snappea needs Django's Tasks API" in proc.stderr
    assert "pip install 'django-tasks>=0.12'" in proc.stderr


@pytest.mark.django_db(databases=["default", "snappea"])
def test_migrations_match_the_models():
    out = StringIO()
    call_command("makemigrations", "snappea", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
