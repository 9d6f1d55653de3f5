"""Settings for foreman subprocesses in tests/snappea: everything in $SNAPPEA_TEST_DIR."""

import os

from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, data_dir, sqlite_database

DATA_DIR = data_dir("SNAPPEA_TEST_DIR")

USE_TZ = os.environ.get("SNAPPEA_TEST_USE_TZ", "1") == "1"
TIME_ZONE = os.environ.get("SNAPPEA_TEST_TIME_ZONE", "UTC")
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", *TASKS_APPS, "snappea"]
# SQLite's defaults (deferred transactions, 5 s busy timeout): the foreman must cope with them.
DATABASES = {
    "default": sqlite_database(DATA_DIR / "main.sqlite3", options={}),
    "snappea": sqlite_database(DATA_DIR / "snappea.sqlite3", options={}),
}
DATABASE_ROUTERS = (
    [] if os.environ.get("SNAPPEA_TEST_NO_ROUTER") else ["snappea.routers.SnappeaRouter"]
)
TASKS = {"default": {"BACKEND": "snappea.backend.SnappeaBackend", "QUEUES": []}}

SNAPPEA_RESULTS = os.environ.get("SNAPPEA_TEST_RESULTS") == "1"
SNAPPEA_MAX_RETRIES = int(os.environ.get("SNAPPEA_TEST_MAX_RETRIES", "0"))
SNAPPEA_RETRY_BACKOFF = float(os.environ.get("SNAPPEA_TEST_RETRY_BACKOFF", "0.2"))
SNAPPEA_HEARTBEAT_INTERVAL = 0.5
SNAPPEA_DEAD_AFTER = 5.0
SNAPPEA_GRACE_PERIOD = float(os.environ.get("SNAPPEA_TEST_GRACE", "10"))
SNAPPEA_INOTIFY = os.environ.get("SNAPPEA_TEST_INOTIFY", "1") == "1"

# The foreman's own lines (task start, finish, retries) are what the tests read in its log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"snappea": {"handlers": ["stderr"], "level": "INFO"}},
}

if os.environ.get("SNAPPEA_TEST_SENTRY_DSN"):
    import sentry_sdk

    sentry_sdk.init(dsn=os.environ["SNAPPEA_TEST_SENTRY_DSN"])
