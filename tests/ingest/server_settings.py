"""Settings for the Gunicorn server the ingest tests start: the ingest app alone, tasks run
immediately (the drain runs inside the request), and a recording consumer.

Paths come from the environment so each test run has its own scratch directory.
"""

import os
from pathlib import Path

from tests.compat import IMMEDIATE_BACKEND, TASKS_APPS, TASKS_MODULE

DATA = Path(os.environ["INGEST_TEST_DIR"])

SECRET_KEY = "ingest-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.ingest.server_urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    *TASKS_APPS,
    "bugsink_ingest",
]
# A host site's usual middleware: the ingest views must work (and stay cheap) behind it.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA / "db.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
# The benchmark measures the ingest path alone: a backend that keeps the (rare) drain task and
# never runs it, so accepted events stay spooled.
_backend = IMMEDIATE_BACKEND
if os.environ.get("INGEST_TEST_TASKS") == "dummy":
    _backend = f"{TASKS_MODULE}.backends.dummy.DummyBackend"
TASKS = {"default": {"BACKEND": _backend}}

BUGSINK_INGEST_SPOOL_DIR = Path(os.environ.get("INGEST_TEST_SPOOL_DIR") or DATA / "spool")
BUGSINK_INGEST_CONSUMER = os.environ.get("INGEST_TEST_CONSUMER", "tests.ingest.recorder.record")
BUGSINK_INGEST_SPOOL = os.environ.get(
    "INGEST_TEST_SPOOL", "bugsink_ingest.spool.segments.SegmentSpool"
)
BUGSINK_INGEST_SPOOL_FSYNC = os.environ.get("INGEST_TEST_SPOOL_FSYNC") == "1"
BUGSINK_INGEST_MAX_EVENT_SIZE = int(os.environ.get("INGEST_TEST_MAX_EVENT", 1024 * 1024))
BUGSINK_INGEST_RATE_LIMIT_PER_MINUTE = int(os.environ.get("INGEST_TEST_GLOBAL_LIMIT", 0)) or None
BUGSINK_INGEST_MAX_BACKLOG = int(os.environ.get("INGEST_TEST_MAX_BACKLOG", 100_000))
# Tests flip keys on and off: no caching there; the benchmark uses the default.
BUGSINK_INGEST_KEY_CACHE_SECONDS = int(os.environ.get("INGEST_TEST_KEY_CACHE", 0))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
