"""Settings for foreman subprocesses in tests/snappea: everything in $SNAPPEA_TEST_DIR.

A test changes them through the environment: SNAPPEA_TEST_SETTINGS is a JSON object of settings
(e.g. {"SNAPPEA_MAX_RETRIES": 1}) laid over these, SNAPPEA_TEST_OPTIONS the JSON object of the
default backend's TASKS OPTIONS.
"""

import json
import os
from pathlib import Path

from tests.compat import TASKS_APPS

DATA_DIR = Path(os.environ["SNAPPEA_TEST_DIR"])

SECRET_KEY = "tests-only-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", *TASKS_APPS, "snappea"]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "main.sqlite3"},
    "snappea": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "snappea.sqlite3"},
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
