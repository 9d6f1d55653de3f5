"""Settings of the real Gunicorn server the browser tests start: ingest and the issues UI together,
tasks run immediately (an SDK's event is digested inside its ingest request), the UI's own login."""

import os

from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, data_dir, sqlite_database

DATA = data_dir("UI_TEST_DIR")

SECRET_KEY = "browser-tests-only"
ROOT_URLCONF = "tests.browser.server_urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    *TASKS_APPS,
    "bugsink_ingest",
    "bugsink_issues",
]
DATABASES = {"default": sqlite_database(DATA / "db.sqlite3")}
LOGIN_URL = "bugsink_issues:login"
LOGIN_REDIRECT_URL = "bugsink_issues:projects"
BUGSINK_INGEST_SPOOL_DIR = DATA / "spool"
BUGSINK_ISSUES_ARTIFACT_DIR = DATA / "artifacts"
BUGSINK_INGEST_BASE_URL = os.environ.get("UI_TEST_BASE_URL", "http://127.0.0.1:8000")
BUGSINK_INGEST_KEY_CACHE_SECONDS = 0
