"""The package as a whole: its version, its typing marker, its public API and its import rules."""

import importlib
import re
import tomllib
from importlib.metadata import version

import bugsink_ingest
from harness.processes import ROOT
from tests.package_rules import tasks_api_importers

PACKAGE = ROOT / "packages" / "django-bugsink-ingest"
SOURCE = PACKAGE / "src" / "bugsink_ingest"


def test_the_version_has_one_source():
    pyproject = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert bugsink_ingest.__version__ == pyproject["project"]["version"]
    assert version("django-bugsink-ingest") == bugsink_ingest.__version__


def test_py_typed_is_shipped():
    assert (SOURCE / "py.typed").exists()
    pyproject = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["*"]


def public_names():
    """The dotted names the package docstring calls public (`bugsink_ingest.x[.y]`), less the
    system check ids (`bugsink_ingest.E001`)."""
    names = re.findall(r"`(bugsink_ingest(?:\.\w+)+)`", bugsink_ingest.__doc__)
    return sorted({n for n in names if not re.fullmatch(r"[EW]\d{3}", n.rsplit(".", 1)[1])})


def resolve(dotted):
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError:
        module, attr = dotted.rsplit(".", 1)
        return getattr(importlib.import_module(module), attr)


def test_every_public_name_exists():
    names = public_names()
    assert "bugsink_ingest.handoff" in names and "bugsink_ingest.spool" in names
    for name in names:
        assert resolve(name) is not None, name


def test_the_readme_imports_only_public_names():
    readme = (PACKAGE / "README.md").read_text()
    public = public_names()
    imported = re.findall(r"from (bugsink_ingest[\w.]*) import ([\w, ]+)", readme)
    assert imported, "the README shows no import at all"
    for module, names in imported:
        for name in (n.strip() for n in names.split(",")):
            dotted = f"{module}.{name}"
            assert module in public or dotted in public, f"{dotted} is not in the public API"


def test_only_compat_imports_the_tasks_api():
    assert tasks_api_importers(SOURCE) == []
