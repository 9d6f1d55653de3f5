"""The settings every Django process of the test suite and the benchmarks shares.

A settings module starts with `from harness.settings import *` and then states only what differs:
its apps, its URLs, its databases (`sqlite_database()`), its data directory and its own knobs.
`shared()` gives the same values to a process that calls `settings.configure()`.

The reference deployment's settings are bugsink_site.settings, not these: a run of the deployment
(harness.chaos.settings) derives from those.
"""

import os
from pathlib import Path

# Re-exported (`X as X`): settings modules build with them.
from harness.compat import DUMMY_BACKEND as DUMMY_BACKEND
from harness.compat import IMMEDIATE_BACKEND as IMMEDIATE_BACKEND
from harness.compat import TASKS_APPS as TASKS_APPS
from harness.compat import TASKS_MODULE as TASKS_MODULE

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A host site's usual middleware: the apps must work (and stay cheap) behind it.
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
        "APP_DIRS": True,  # with DEBUG off, compiled templates are cached
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins, tests only

# Tasks run inside the request that enqueues them unless a module says otherwise.
TASKS = {"default": {"BACKEND": IMMEDIATE_BACKEND}}

# Warnings and errors on stderr, which the harness sends to each process's log file.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}

# Writers take SQLite's write lock when their transaction begins (no lock upgrade deadlocks), and
# wait for it rather than fail at once.
SQLITE_OPTIONS = {"transaction_mode": "IMMEDIATE", "timeout": 20}
# What the benchmarks add, as the reference deployment does (bugsink_site.env.SQLITE_INIT): its
# page size for new files, WAL, and no fsync per commit.
SQLITE_WAL = {
    "init_command": "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
}


def sqlite_database(name, options=None, **extra) -> dict:
    """A DATABASES entry for the SQLite file `name`; `options` replace SQLITE_OPTIONS."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": dict(SQLITE_OPTIONS if options is None else options),
        **extra,
    }


def data_dir(variable: str) -> Path:
    """The directory a subprocess's parent named in the environment variable `variable`."""
    return Path(os.environ[variable])


def shared() -> dict:
    """These settings as keyword arguments for `settings.configure()`."""
    return {name: value for name, value in globals().items() if name.isupper()}


# What `from harness.settings import *` brings: the settings, the Tasks names, the two helpers.
__all__ = [*(name for name in list(globals()) if name.isupper()), "data_dir", "sqlite_database"]
