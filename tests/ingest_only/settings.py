"""An ingest-only host site: bugsink_ingest without bugsink_issues or snappea, its URLs under a
prefix, tasks run immediately, and a consumer of its own."""

import tempfile
from pathlib import Path

from tests.compat import IMMEDIATE_BACKEND, TASKS_APPS

DATA = Path(tempfile.mkdtemp(prefix="ingest-only-"))
SECRET_KEY = "ingest-only-tests"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.ingest_only.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", *TASKS_APPS, "bugsink_ingest"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA / "db.sqlite3"}}
TASKS = {"default": {"BACKEND": IMMEDIATE_BACKEND}}
BUGSINK_INGEST_SPOOL_DIR = DATA / "spool"
BUGSINK_INGEST_CONSUMER = "tests.ingest_only.consumer.keep"
BUGSINK_INGEST_BASE_URL = "https://errors.example.org/errors"
