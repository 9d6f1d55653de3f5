"""Settings for the test suite: the three apps composed as a host site would compose them.

Tasks run immediately by default (the digest happens inside the request); tests of the queue and
end-to-end tests start real foreman processes with settings of their own.
"""

import os
import tempfile
from pathlib import Path

import django

from tests.compat import IMMEDIATE_BACKEND, TASKS_APPS

BASE_DIR = Path(__file__).resolve().parent
# One scratch directory per test process: spool, SQLite files of subprocess tests.
TEST_DATA_DIR = Path(
    os.environ.get("BUGSINK_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="bugsink-tests-")
)

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    *TASKS_APPS,
    "snappea",
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
        "DIRS": [],
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

_postgres_url = os.environ.get("BUGSINK_TEST_POSTGRES")
if _postgres_url:
    from urllib.parse import urlsplit

    _pg = urlsplit(_postgres_url)
    _default_db = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _pg.path.lstrip("/"),
        "USER": _pg.username or "",
        "PASSWORD": _pg.password or "",
        "HOST": _pg.hostname or "",
        "PORT": _pg.port or "",
    }
else:
    _default_db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": TEST_DATA_DIR / "main.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        "TEST": {"NAME": TEST_DATA_DIR / "test-main.sqlite3"},
    }

DATABASES = {
    "default": _default_db,
    "snappea": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": TEST_DATA_DIR / "snappea.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        "TEST": {"NAME": TEST_DATA_DIR / "test-snappea.sqlite3"},
    },
}
DATABASE_ROUTERS = ["snappea.routers.SnappeaRouter"]

TASKS = {"default": {"BACKEND": IMMEDIATE_BACKEND}}

STATIC_URL = "/static/"
_LOCMEM_MAIL = "django.core.mail.backends.locmem.EmailBackend"
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _LOCMEM_MAIL}}  # EMAIL_BACKEND is deprecated from 6.1
else:
    EMAIL_BACKEND = _LOCMEM_MAIL
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

BUGSINK_INGEST_SPOOL_DIR = TEST_DATA_DIR / "spool"
