"""Settings for foreman subprocesses in tests/snappea: everything in $SNAPPEA_TEST_DIR.

A test changes them through the environment: SNAPPEA_TEST_SETTINGS is a JSON object of settings
(e.g. {"SNAPPEA_MAX_RETRIES": 1}) laid over these, SNAPPEA_TEST_OPTIONS the JSON object of the
default backend's TASKS OPTIONS.
"""

import json
import os

from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, data_dir, sqlite_database

DATA_DIR = data_dir("SNAPPEA_TEST_DIR")

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", *TASKS_APPS, "snappea"]
# SQLite's defaults (deferred transactions, 5 s busy timeout): the foreman must cope with them.
DATABASES = {
    "default": sqlite_database(DATA_DIR / "main.sqlite3", options={}),
    "snappea": sqlite_database(DATA_DIR / "snappea.sqlite3", options={}),
}
DATABASE_ROUTERS = ["snappea.routers.SnappeaRouter"]
TASKS = {
    "default": {
        "BACKEND": "snappea.backend.SnappeaBackend",
        "QUEUES": [],
        "OPTIONS": json.loads(os.environ.get("SNAPPEA_TEST_OPTIONS", "{}")),
    }
}

SNAPPEA_RETRY_BACKOFF = 0.2
SNAPPEA_HEARTBEAT_INTERVAL = 0.5
SNAPPEA_DEAD_AFTER = 5.0
SNAPPEA_GRACE_PERIOD = 10.0

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

for _name, _value in json.loads(os.environ.get("SNAPPEA_TEST_SETTINGS", "{}")).items():
    globals()[_name] = _value
