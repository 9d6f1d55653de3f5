"""An ingest-only host site: bugsink_ingest without bugsink_issues or snappea (nor auth), its URLs
under a prefix, tasks run immediately, and a consumer of its own."""

import tempfile
from pathlib import Path

from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, sqlite_database

DATA = Path(tempfile.mkdtemp(prefix="ingest-only-"))
SECRET_KEY = "ingest-only-tests"
ROOT_URLCONF = "tests.ingest_only.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", *TASKS_APPS, "bugsink_ingest"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
TEMPLATES: list = []
DATABASES = {"default": sqlite_database(DATA / "db.sqlite3", options={})}
BUGSINK_INGEST_SPOOL_DIR = DATA / "spool"
BUGSINK_INGEST_CONSUMER = "tests.ingest_only.consumer.keep"
BUGSINK_INGEST_BASE_URL = "https://errors.example.org/errors"
