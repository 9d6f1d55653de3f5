"""The harness's own rules: one settings base for every Django process of the suite and the
benchmarks, and the DSN reading both the tests and the benchmarks rely on."""

import ast
from pathlib import Path

import pytest

from harness.deployment import Dsn

ROOT = Path(__file__).resolve().parent.parent
BASE = "harness.settings"
# The chaos runs configure the reference deployment itself: they derive from its settings.
DEPLOYMENT_SETTINGS = {"harness/chaos/settings.py": "bugsink_site.settings"}


def settings_modules(root: Path) -> list[Path]:
    found = []
    for tree in ("tests", "harness", "benchmarks"):
        for path in (root / tree).rglob("*settings*.py"):
            if path.name.startswith("test_"):  # a test module about settings, not settings
                continue
            if "node_modules" not in path.parts and path != root / "harness" / "settings.py":
                found.append(path)
    return sorted(found)


def star_bases(source: str) -> list[str]:
    return [
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
    ]


def not_derived(root: Path) -> list[str]:
    """Settings modules under root that do not start from BASE, directly or through another."""
    modules = {
        ".".join(path.relative_to(root).with_suffix("").parts): path
        for path in settings_modules(root)
    }

    def derives(name, seen):
        bases = star_bases(modules[name].read_text())
        if len(bases) != 1 or bases[0] in seen:
            return False
        return bases[0] == BASE or (bases[0] in modules and derives(bases[0], {*seen, name}))

    wrong = []
    for name, path in modules.items():
        relative = path.relative_to(root).as_posix()
        if relative in DEPLOYMENT_SETTINGS:
            if star_bases(path.read_text()) != [DEPLOYMENT_SETTINGS[relative]]:
                wrong.append(relative)
        elif not derives(name, set()):
            wrong.append(relative)
    return wrong


def test_every_settings_module_derives_from_the_harness_base():
    # the suite's, the subprocess servers', the packaging checks', the chaos runs'
    assert len(settings_modules(ROOT)) >= 10
    assert not_derived(ROOT) == []


def test_the_settings_rule_catches_a_module_of_its_own(tmp_path):
    for name, text in {
        "tests/settings.py": "from harness.settings import *\n",
        "tests/sub/server_settings.py": "from tests.settings import *\nDEBUG = True\n",
        "tests/sub/own_settings.py": "SECRET_KEY = 'x'\nINSTALLED_APPS = []\n",
        "tests/loop_settings.py": "from tests.loop_settings import *\n",
        "harness/chaos/settings.py": "from harness.settings import *\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert not_derived(tmp_path) == [
        "harness/chaos/settings.py",
        "tests/loop_settings.py",
        "tests/sub/own_settings.py",
    ]


def test_benchmarks_that_configure_django_start_from_the_harness_base():
    configured = []
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "configure":
                calls = {
                    n.func.id
                    for n in ast.walk(node)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                }
                configured.append((path.name, "shared" in calls))
        # a settings file the benchmark writes for its subprocesses
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "INSTALLED_APPS =" in node.value
            ):
                configured.append((path.name, star_bases(node.value) == [BASE]))
    assert {name for name, _ in configured} >= {"digest.py", "ui.py", "spool.py", "snappea.py"}
    assert [name for name, ok in configured if not ok] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Demo project DSN: http://" + "a" * 32 + "@127.0.0.1:8000/1\n", Dsn("a" * 32, 1, "")),
        ("https://" + "b" * 32 + "@host/errors/12", Dsn("b" * 32, 12, "/errors")),
        ("no dsn here", None),
    ],
)
def test_dsn_is_read_with_its_prefix(text, expected):
    assert Dsn.find(text) == expected
    if expected:
        assert expected.envelope_path == f"{expected.prefix}/api/{expected.project_id}/envelope/"
