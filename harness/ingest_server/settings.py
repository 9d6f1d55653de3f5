"""Settings of the Gunicorn that harness.ingest_server starts: the ingest app alone, tasks run
immediately (the drain runs inside the request), a consumer named by the caller.

Every knob comes from the environment (INGEST_TEST_*), so each server has its own scratch
directory and limits; `start_server(directory, INGEST_TEST_MAX_BACKLOG=3)` sets one.
"""

import os
from pathlib import Path

from harness.settings import *  # noqa: F403
from harness.settings import DUMMY_BACKEND, MIDDLEWARE, TASKS_APPS, data_dir, sqlite_database

DATA = data_dir("INGEST_TEST_DIR")

SECRET_KEY = "ingest-tests-only"
ROOT_URLCONF = "harness.ingest_server.urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    *TASKS_APPS,
    "bugsink_ingest",
]
# The host site's usual middleware but messages (not installed here).
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("django.contrib.messages.")]
DATABASES = {"default": sqlite_database(DATA / "db.sqlite3")}
# The benchmark measures the ingest path alone: a backend that keeps the (rare) drain task and
# never runs it, so accepted events stay spooled.
if os.environ.get("INGEST_TEST_TASKS") == "dummy":
    TASKS = {"default": {"BACKEND": DUMMY_BACKEND}}

BUGSINK_INGEST_SPOOL_DIR = Path(os.environ.get("INGEST_TEST_SPOOL_DIR") or DATA / "spool")
BUGSINK_INGEST_CONSUMER = os.environ.get(
    "INGEST_TEST_CONSUMER", "harness.ingest_server.consumer.discard"
)
BUGSINK_INGEST_SPOOL = os.environ.get(
    "INGEST_TEST_SPOOL", "bugsink_ingest.spool.segments.SegmentSpool"
)
BUGSINK_INGEST_SPOOL_FSYNC = os.environ.get("INGEST_TEST_SPOOL_FSYNC") == "1"
BUGSINK_INGEST_MAX_EVENT_SIZE = int(os.environ.get("INGEST_TEST_MAX_EVENT", 1024 * 1024))
BUGSINK_INGEST_RATE_LIMIT_PER_MINUTE = int(os.environ.get("INGEST_TEST_GLOBAL_LIMIT", 0)) or None
BUGSINK_INGEST_MAX_BACKLOG = int(os.environ.get("INGEST_TEST_MAX_BACKLOG", 100_000))
# Tests flip keys on and off: no caching there; the benchmark uses the default.
BUGSINK_INGEST_KEY_CACHE_SECONDS = int(os.environ.get("INGEST_TEST_KEY_CACHE", 0))
