"""Settings for foreman subprocesses in tests/snappea: everything in $SNAPPEA_TEST_DIR."""

import os
from pathlib import Path

from tests.compat import TASKS_APPS

DATA_DIR = Path(os.environ["SNAPPEA_TEST_DIR"])

SECRET_KEY = "tests-only-not-secret"
USE_TZ = os.environ.get("SNAPPEA_TEST_USE_TZ", "1") == "1"
TIME_ZONE = os.environ.get("SNAPPEA_TEST_TIME_ZONE", "UTC")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", *TASKS_APPS, "snappea"]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "main.sqlite3"},
    "snappea": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "snappea.sqlite3"},
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"snappea": {"handlers": ["stderr"], "level": "INFO"}},
}

if os.environ.get("SNAPPEA_TEST_SENTRY_DSN"):
    import sentry_sdk

    sentry_sdk.init(dsn=os.environ["SNAPPEA_TEST_SENTRY_DSN"])

SNAPPEA_INOTIFY = os.environ.get("SNAPPEA_TEST_INOTIFY", "1") == "1"
