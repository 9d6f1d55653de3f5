"""Every way to run the project: `nox` runs what CI runs; `nox -l` lists every session.

The matrix: Django 5.2 (with the django-tasks backport) on Python 3.11 and 3.12, Django 6.1 (with
django.tasks) on Python 3.13; PostgreSQL on 3.13. A missing interpreter is skipped on a developer's
machine and is an error under CI=true, so CI can never pass by running half the matrix.
"""

import glob
import os
import shutil
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PACKAGES = [
    "packages/django-snappea",
    "packages/django-bugsink-ingest",
    "packages/django-bugsink-issues",
]
SRC_PATHS = [str(ROOT / package / "src") for package in PACKAGES]
DJANGO = {
    "5.2": ["django>=5.2,<6.0", "django-tasks>=0.12"],
    "6.1": ["django>=6.1,<6.2"],
}
DJANGO_FOR_PYTHON = {"3.11": "5.2", "3.12": "5.2", "3.13": "6.1"}
# The type checker's exact versions: a new release never turns a green run red by itself. The
# django-tasks backport too (the packages import it on Django 5.2; its types are checked as well),
# and sentry-sdk, which the packages import where it is installed.
TYPECHECK = [
    "mypy==2.4.1",
    "django-stubs==6.1.2",
    "django-stubs-ext==6.1.2",
    "django==6.1.3",
    "types-Pygments==2.21.0.20260819",
    "django-tasks==0.12.0",
    "sentry-sdk==2.75.0",
]
BUILD_TOOLS = ["build==1.6.1", "twine==7.0.0"]

nox.options.sessions = ["lint", "typecheck", "build", "tests", "tests_postgres"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

# pyenv installs interpreters without putting them all on PATH; let nox find them.
for bindir in sorted(
    glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[1-9]*/bin")), reverse=True
):
    os.environ["PATH"] = os.environ["PATH"] + os.pathsep + bindir


def install_project(session, django):
    session.install(
        *DJANGO[django],
        *PACKAGES,
        "-r",
        "tests/requirements.txt",
        "-r",
        "example_project/requirements.txt",
    )


@nox.session(python=list(DJANGO_FOR_PYTHON))
def tests(session):
    """The whole suite on SQLite: 3.11 and 3.12 with Django 5.2, 3.13 with Django 6.1.

    Unit, real-process end-to-end, chaos and browser tests, in one process: the real-process tests
    use both cores already and keep deadlines, so they do not run side by side (no xdist). 3.12
    has the same Django as 3.11, so there only the in-process tests run (the interpreter is what
    differs; the real processes and the browser would repeat 3.11's run), unless told otherwise.
    """
    install_project(session, DJANGO_FOR_PYTHON[session.python])
    marks = ["-m", "not e2e and not browser"] if session.python == "3.12" else []
    args = session.posargs or marks
    session.run("pytest", *args, env={"BUGSINK_TEST_POSTGRES": ""})


@nox.session(python="3.13")
def tests_postgres(session):
    """The suite with PostgreSQL as the main database: the scale-out path."""
    url = os.environ.get("BUGSINK_TEST_POSTGRES")
    if not url:
        if os.environ.get("CI"):
            session.error("BUGSINK_TEST_POSTGRES is not set; .ci/run starts PostgreSQL and sets it")
        session.skip("BUGSINK_TEST_POSTGRES is not set (postgres://user:pass@host/db)")
    install_project(session, "6.1")
    # Browser tests and real-process tests whose processes use SQLite anyway (`sqlite_only`)
    # would repeat the 3.13 run; everything that reaches the database through Django runs here.
    marks = ["-m", "not browser and not sqlite_only"]
    args = session.posargs or marks
    session.run("pytest", *args, env={"BUGSINK_TEST_POSTGRES": url})


@nox.session(python=False)
def lint(session):
    """ruff check and ruff format --check."""
    session.run("python", "-m", "pip", "install", "-q", "ruff==0.17.6")
    session.run("python", "-m", "ruff", "check", ".")
    session.run("python", "-m", "ruff", "format", "--check", ".")


@nox.session(python="3.13")
def typecheck(session):
    """mypy with the root pyproject.toml's configuration (Django 6.1 and its stubs)."""
    session.install(*TYPECHECK, *PACKAGES)
    # The packages from their sources (as mypy_path says), the settings module from the root; its
    # SQLite form (CI exports BUGSINK_TEST_POSTGRES, and psycopg is not installed here).
    env = {"PYTHONPATH": os.pathsep.join([*SRC_PATHS, "."]), "BUGSINK_TEST_POSTGRES": ""}
    session.run("mypy", *session.posargs, env=env)


@nox.session(python="3.13")
def build(session):
    """Each distribution: wheel and sdist built, `twine check --strict`, their contents checked, and
    the wheel installed alone in a fresh virtualenv, imported and `django-admin check`ed."""
    session.install(*BUILD_TOOLS)
    work = Path(tempfile.mkdtemp(prefix="bugsink-build-"))
    try:
        _build_and_install(session, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_and_install(session, work: Path):
    wheels = {}
    for package in PACKAGES:
        name = Path(package).name
        dist = work / "dist" / name
        session.run("python", "-m", "build", "--outdir", str(dist), package)
        session.run("twine", "check", "--strict", *map(str, sorted(dist.iterdir())))
        (wheels[name],) = dist.glob("*.whl")
    # Each wheel with its declared dependencies only; issues needs ingest, which is not on PyPI.
    # The "-django5.2" installs hold Django 5.2 on this Python (3.13): the Tasks API must then come
    # from the packages' own dependency on the django-tasks backport, whatever the Python.
    issues_wheels = [wheels["django-bugsink-issues"], wheels["django-bugsink-ingest"]]
    installs = {
        "django-snappea": ("snappea", [wheels["django-snappea"]]),
        "django-snappea-django5.2": ("snappea", [wheels["django-snappea"], DJANGO["5.2"][0]]),
        "django-bugsink-ingest": ("bugsink_ingest", [wheels["django-bugsink-ingest"]]),
        "django-bugsink-issues": ("bugsink_issues", issues_wheels),
        "django-bugsink-issues-django5.2": ("bugsink_issues", [*issues_wheels, DJANGO["5.2"][0]]),
    }
    for name, (module, to_install) in installs.items():
        venv = work / "venv" / name
        session.run("python", "-m", "venv", str(venv))
        python = str(venv / "bin" / "python")
        session.run(python, "-m", "pip", "install", "-q", *map(str, to_install), external=True)
        env = {
            "PYTHONPATH": str(ROOT),  # for harness.packaging's settings: the package is the wheel's
            "DJANGO_SETTINGS_MODULE": f"harness.packaging.settings_{module}",
            "PACKAGING_CHECK_DIR": str(venv),
        }
        session.run(python, "-m", "harness.packaging.installed", module, env=env, external=True)
        session.run(
            str(venv / "bin" / "django-admin"),
            "check",
            "--fail-level",
            "WARNING",
            env=env,
            external=True,
        )
    # Last, so that a missing file does not hide what the installs would have shown.
    contents = [str(arg) for p in PACKAGES for arg in (work / "dist" / Path(p).name, p)]
    session.run("python", "-m", "harness.packaging.contents", *contents)


@nox.session(python="3.11")
def bench(session):
    """`nox -s bench -- NAME [NAME...]`: snappea, ingest, spool, digest, ui, e2e (all when none given)."""
    install_project(session, "5.2")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python="3.11")
def serve(session):
    """The reference deployment on this machine: migrations, Gunicorn and the foreman."""
    session.install(*DJANGO["5.2"], *PACKAGES, "-r", "example_project/requirements.txt")
    session.run("python", "example_project/manage.py", "serve", *session.posargs)


@nox.session(python="3.11")
def chaos(session):
    """Faults and hostile input against the running reference deployment (see BENCHMARKS.md)."""
    install_project(session, "5.2")
    session.run("python", "-m", "benchmarks.chaos", *session.posargs)
