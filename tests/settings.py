"""Settings for the test suite: the three apps composed as a host site would compose them.

Tasks run immediately (the digest happens inside the request); tests of the queue and end-to-end
tests start real foreman processes with settings of their own. Everything else is harness.settings.
"""

import os
import tempfile
from pathlib import Path

import django

from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, sqlite_database

BASE_DIR = Path(__file__).resolve().parent
# One scratch directory per test process: spool, SQLite files of subprocess tests.
TEST_DATA_DIR = Path(
    os.environ.get("BUGSINK_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="bugsink-tests-")
)

ROOT_URLCONF = "tests.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    *TASKS_APPS,
    "snappea",
    "bugsink_ingest",
    "bugsink_issues",
]

_postgres_url = os.environ.get("BUGSINK_TEST_POSTGRES")
if _postgres_url:
    from urllib.parse import urlsplit

    _pg = urlsplit(_postgres_url)
    _default_db = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _pg.path.lstrip("/"),
        "USER": _pg.username or "",
        "PASSWORD": _pg.password or "",
        "HOST": _pg.hostname or "",
        "PORT": _pg.port or "",
    }
else:
    _default_db = sqlite_database(
        TEST_DATA_DIR / "main.sqlite3", TEST={"NAME": TEST_DATA_DIR / "test-main.sqlite3"}
    )

DATABASES = {
    "default": _default_db,
    "snappea": sqlite_database(
        TEST_DATA_DIR / "snappea.sqlite3", TEST={"NAME": TEST_DATA_DIR / "test-snappea.sqlite3"}
    ),
}
DATABASE_ROUTERS = ["snappea.routers.SnappeaRouter"]

_LOCMEM_MAIL = "django.core.mail.backends.locmem.EmailBackend"
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _LOCMEM_MAIL}}  # EMAIL_BACKEND is deprecated from 6.1
else:
    EMAIL_BACKEND = _LOCMEM_MAIL

BUGSINK_INGEST_SPOOL_DIR = TEST_DATA_DIR / "spool"
# The test process logs as Django does by default, into pytest's capture: no stderr handler.
LOGGING: dict = {}
