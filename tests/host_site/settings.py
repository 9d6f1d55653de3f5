"""A host site that embeds the apps as the root README says: its own user model (e-mail login, no
username), its own login and logout pages, its own layout, ingest and the UI under one prefix.

Run by tests/issues/test_views_embedding.py (embedded_checks.py, in a subprocess) and by
tests/browser/test_browser_embedding.py (under Gunicorn); the data directory comes from
HOST_SITE_DIR (a temporary one when unset).
"""

import os
import tempfile
from pathlib import Path

from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, sqlite_database

DATA = Path(os.environ.get("HOST_SITE_DIR") or tempfile.mkdtemp(prefix="host-site-"))
BASE_DIR = Path(__file__).resolve().parent

ROOT_URLCONF = "tests.host_site.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    *TASKS_APPS,
    "tests.host_site.accounts",
    "bugsink_ingest",
    "bugsink_issues",
]
AUTH_USER_MODEL = "host_accounts.EmailUser"
DATABASES = {"default": sqlite_database(DATA / "db.sqlite3")}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# The host's own login and logout (see urls.py); the UI uses them.
LOGIN_URL = "host_login"
LOGIN_REDIRECT_URL = "/errors/"
LOGOUT_REDIRECT_URL = "host_home"

# What the root README's embedding section names.
BUGSINK_ISSUES_UI_OUTER_TEMPLATE = "host/layout.html"
BUGSINK_INGEST_SPOOL_DIR = DATA / "spool"
BUGSINK_INGEST_BASE_URL = os.environ.get("HOST_SITE_BASE_URL", "http://testserver") + "/errors"
BUGSINK_ISSUES_BASE_URL = os.environ.get("HOST_SITE_BASE_URL", "http://testserver") + "/errors"
