"""Every way to run the project: `nox -s serve`, `nox -s tests`, `nox -s lint`, `nox -s bench -- NAME`.

Interpreters: the suite runs on Python 3.11 with Django 5.2 and the django-tasks backport, and on
Python 3.13 with Django 6.x and django.tasks. A missing interpreter is skipped on a developer's
machine and is an error under CI=true, so CI can never pass by running half the matrix.
"""

import glob
import os
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PACKAGES = [
    "packages/django-snappea",
    "packages/django-bugsink-ingest",
    "packages/django-bugsink-issues",
]
DJANGO_FOR_PYTHON = {
    "3.11": ["django>=5.2,<6.0", "django-tasks>=0.12"],
    "3.13": ["django>=6.0,<7.0"],
}

nox.options.sessions = ["lint", "tests", "tests_postgres"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

# pyenv installs interpreters without putting them all on PATH; let nox find them.
for bindir in sorted(
    glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[1-9]*/bin")), reverse=True
):
    os.environ["PATH"] = os.environ["PATH"] + os.pathsep + bindir


def install_project(session, django_python="3.11"):
    session.install(
        *DJANGO_FOR_PYTHON[django_python],
        *PACKAGES,
        "-r",
        "tests/requirements.txt",
        "-r",
        "example_project/requirements.txt",
    )


@nox.session(python=list(DJANGO_FOR_PYTHON))
def tests(session):
    """The whole suite on SQLite (unit, real-process end-to-end and browser tests)."""
    install_project(session, session.python)
    session.run("pytest", *session.posargs, env={"BUGSINK_TEST_POSTGRES": ""})


@nox.session(python="3.13")
def tests_postgres(session):
    """The suite with PostgreSQL as the main database: the scale-out path."""
    url = os.environ.get("BUGSINK_TEST_POSTGRES")
    if not url:
        if os.environ.get("CI"):
            session.error("BUGSINK_TEST_POSTGRES is not set; .ci/run starts PostgreSQL and sets it")
        session.skip("BUGSINK_TEST_POSTGRES is not set (postgres://user:pass@host/db)")
    install_project(session, "3.13")
    session.run("pytest", "-m", "not browser", *session.posargs, env={"BUGSINK_TEST_POSTGRES": url})


@nox.session(python=False)
def lint(session):
    session.run("python", "-m", "pip", "install", "-q", "ruff==0.17.6")
    session.run("python", "-m", "ruff", "check", ".")
    session.run("python", "-m", "ruff", "format", "--check", ".")


@nox.session(python="3.11")
def bench(session):
    """`nox -s bench -- NAME [NAME...]`: snappea, ingest, spool, digest, ui, e2e (all when none given)."""
    install_project(session, "3.11")
    session.install("-r", "example_project/requirements.txt")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python="3.11")
def serve(session):
    """The reference deployment on this machine: migrations, Gunicorn and the foreman."""
    session.install(*DJANGO_FOR_PYTHON["3.11"], *PACKAGES, "-r", "example_project/requirements.txt")
    session.run("python", "example_project/manage.py", "serve", *session.posargs)


@nox.session(python="3.11")
def chaos(session):
    """Faults and hostile input against the running reference deployment (see BENCHMARKS.md)."""
    install_project(session, "3.11")
    session.install("-r", "example_project/requirements.txt")
    session.run("python", "-m", "benchmarks.chaos", *session.posargs)
