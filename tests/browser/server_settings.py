"""Settings of the real Gunicorn server the browser tests start: ingest and the issues UI together,
tasks run immediately (an SDK's event is digested inside its ingest request), the UI's own login."""

import os
from pathlib import Path

from tests.compat import IMMEDIATE_BACKEND, TASKS_APPS

DATA = Path(os.environ["UI_TEST_DIR"])

SECRET_KEY = "browser-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.browser.server_urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
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
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA / "db.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
TASKS = {"default": {"BACKEND": IMMEDIATE_BACKEND}}
STATIC_URL = "/static/"
LOGIN_URL = "bugsink_issues:login"
LOGIN_REDIRECT_URL = "bugsink_issues:projects"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
BUGSINK_INGEST_SPOOL_DIR = DATA / "spool"
BUGSINK_INGEST_BASE_URL = os.environ.get("UI_TEST_BASE_URL", "http://127.0.0.1:8000")
BUGSINK_INGEST_KEY_CACHE_SECONDS = 0
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
