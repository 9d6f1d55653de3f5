"""The reference deployment's settings: everything from environment variables, laptop defaults.

All state lives under BUGSINK_DATA_DIR (default ./data): the SQLite files, the spool, the secret
key. README.md ("Production") lists every variable.
"""

import os
from importlib.util import find_spec
from urllib.parse import urlsplit

import django

from bugsink_site import env
from bugsink_site.accounts import config as accounts_config

env.make_files_private()  # before the first file is created: see env.make_files_private
DATA_DIR = env.data_dir()
SECRET_KEY = env.secret_key(DATA_DIR)
DEBUG = env.env_bool("DEBUG", False)

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_base_host = env.base_url_host(BASE_URL)
ALLOWED_HOSTS = env.env_list(
    "ALLOWED_HOSTS", sorted({_base_host, "127.0.0.1", "localhost", "[::1]"})
)
CSRF_TRUSTED_ORIGINS = [env.origin_of(BASE_URL)]
_https = urlsplit(BASE_URL).scheme == "https"
if _https:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
# HSTS: a browser that saw it over HTTPS uses nothing but HTTPS for this host from then on. Django
# sends it on HTTPS requests only: TLS to Gunicorn, or a proxy's X-Forwarded-Proto: https (trusted
# from FORWARDED_ALLOW_IPS by Gunicorn, from anywhere with BEHIND_PROXY). 0 turns it off (a proxy
# that sends its own).
SECURE_HSTS_SECONDS = env.env_int("BUGSINK_HSTS_SECONDS", 365 * 24 * 3600 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.env_bool("BUGSINK_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.env_bool("BUGSINK_HSTS_PRELOAD", False)
if env.env_bool("BEHIND_PROXY", False):
    # The reverse proxy terminates TLS and says so; only trust this header behind a proxy you run.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
ROOT_URLCONF = "bugsink_site.urls"
WSGI_APPLICATION = "bugsink_site.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Which Django Tasks implementation: django.tasks on Django 6.x, the backport app on 5.2.
HAS_DJANGO_TASKS = find_spec("django.tasks") is not None
TASKS_MODULE = "django.tasks" if HAS_DJANGO_TASKS else "django_tasks"

# The background worker. "snappea" (default): the SQLite queue and its foreman. "db":
# django-tasks-db in the main database with its db_worker (the scale-out path with PostgreSQL).
# "rq": RQ on Redis (REDIS_URL) through django-tasks-rq, workers on as many hosts as needed (the
# scale-out path with several worker hosts). "immediate": tasks run inside the request (no worker;
# for trying things out only).
TASKS_BACKEND_NAME = os.environ.get("BUGSINK_TASKS_BACKEND", "snappea").strip().lower()
_TASK_BACKENDS = {
    "snappea": ("snappea.backend.SnappeaBackend", ["snappea"]),
    "db": ("django_tasks_db.DatabaseBackend", ["django_tasks_db"]),
    "rq": ("django_tasks_rq.RQBackend", ["django_rq"]),
    "immediate": (f"{TASKS_MODULE}.backends.immediate.ImmediateBackend", []),
}
if TASKS_BACKEND_NAME not in _TASK_BACKENDS:
    raise ValueError(
        f"BUGSINK_TASKS_BACKEND={TASKS_BACKEND_NAME!r}: use one of {sorted(_TASK_BACKENDS)}"
    )
_tasks_backend, _tasks_apps = _TASK_BACKENDS[TASKS_BACKEND_NAME]
if TASKS_BACKEND_NAME == "db" and find_spec("django_tasks_db") is None:
    raise ValueError("BUGSINK_TASKS_BACKEND=db needs django-tasks-db: pip install django-tasks-db")
if TASKS_BACKEND_NAME == "rq" and find_spec("django_tasks_rq") is None:
    raise ValueError("BUGSINK_TASKS_BACKEND=rq needs django-tasks-rq: pip install django-tasks-rq")
TASKS = {"default": {"BACKEND": _tasks_backend, "QUEUES": []}}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# django-rq's queues: the tasks all use Django's "default" queue. A job may run this long before
# RQ kills it (a drain hands over to a fresh task after 30 s; a digest batch takes well under a
# second). Results stay an hour: the Tasks API can read them, and Redis does not fill up.
RQ_QUEUES = {
    "default": {
        "URL": REDIS_URL,
        "DEFAULT_TIMEOUT": env.env_int("BUGSINK_RQ_JOB_TIMEOUT", 300),
        "DEFAULT_RESULT_TTL": 3600,
    }
}
# Worker processes runworker starts (and restarts) on this host: `runworker --processes N`.
BUGSINK_WORKER_PROCESSES = env.env_int("BUGSINK_WORKER_PROCESSES", 1)
# The backend's own worker command, which `manage.py runworker` runs (with no arguments) behind
# the garbage-collector tuning for the digest; None: no worker process.
BUGSINK_WORKER_ENGINE_COMMAND = {
    "snappea": ["runsnappea"],
    "db": ["db_worker", "--queue-name", "*", "--interval", "0.2", "--no-startup-delay"],
    # --with-scheduler: the worker moves deferred tasks (run_after: the sweep, the drain's retry)
    # to the queue when due; with several workers one holds the scheduler's lock at a time.
    # --worker-ttl 30: an idle worker's heartbeat every 15 s (RQ's default: 405 s), so that the
    # readiness check can tell a live worker from a dead one. django-tasks-rq's job class runs a
    # job as the Task it names (RQ's own would call the Task object).
    "rq": [
        *("rqworker", "--with-scheduler", "--worker-ttl", "30"),
        *("--worker-class", "bugsink_site.rq_worker.Worker", "--job-class", "django_tasks_rq.Job"),
        "default",
    ],
    "immediate": None,
}[TASKS_BACKEND_NAME]
# The command `serve` supervises beside Gunicorn (None: no worker process). Nothing else runs:
# ingest keeps its spool drained through the Tasks backend alone. Several processes for the
# backends whose queue is shared (the foreman runs one per host, on its SQLite queue).
_processes = ["--processes", str(BUGSINK_WORKER_PROCESSES)] * (
    BUGSINK_WORKER_PROCESSES > 1 and TASKS_BACKEND_NAME != "snappea"
)
BUGSINK_WORKER_COMMAND = (
    ["runworker", *_processes, *_engine] if (_engine := BUGSINK_WORKER_ENGINE_COMMAND) else None
)

INSTALLED_APPS = [
    # The background worker serves no admin page: its registrations (every app's admin.py, their
    # forms and widgets) would be memory it never uses. The admin's models stay installed.
    "django.contrib.admin.apps.SimpleAdminConfig"
    if os.environ.get("BUGSINK_PROCESS") == "worker"
    else "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: WhiteNoise takes over runserver's static handling too.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    *([] if HAS_DJANGO_TASKS else ["django_tasks"]),
    *_tasks_apps,
    "bugsink_ingest",
    "bugsink_issues",
    "bugsink_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# Databases: SQLite files in the data dir unless DATABASE_URL names a PostgreSQL server.
if os.environ.get("DATABASE_URL"):
    _default_db = env.database_from_url(os.environ["DATABASE_URL"])
    if _default_db["ENGINE"].endswith("sqlite3"):
        _default_db = env.sqlite_database(_default_db["NAME"])
    else:
        _default_db["CONN_MAX_AGE"] = env.env_int("CONN_MAX_AGE", 60)
        _default_db["CONN_HEALTH_CHECKS"] = True
else:
    _default_db = env.sqlite_database(DATA_DIR / "db.sqlite3")
DATABASES = {"default": _default_db}
DATABASE_ROUTERS = []
if TASKS_BACKEND_NAME == "snappea":
    # The queue in a SQLite file of its own: an enqueue never waits for the main DB's write lock.
    DATABASES["snappea"] = env.sqlite_database(DATA_DIR / "snappea.sqlite3")
    DATABASE_ROUTERS = ["snappea.routers.SnappeaRouter"]
if _default_db["ENGINE"].endswith("sqlite3"):
    # Accounts (below): the cache of the login throttling and used TOTP codes, in a file of its own.
    DATABASES["cache"] = env.sqlite_database(DATA_DIR / "cache.sqlite3")
    DATABASE_ROUTERS = [*DATABASE_ROUTERS, "bugsink_site.accounts.routers.CacheRouter"]
# A WAL file keeps the largest size it ever reached (a burst of writes while readers held old
# snapshots) until the last connection closes; journal_size_limit truncates it back to 1 MiB each
# time a checkpoint lets it start over. SQLite files only: PostgreSQL has no such PRAGMA.
for _db in DATABASES.values():
    if _db["ENGINE"].endswith("sqlite3"):
        _options = _db.setdefault("OPTIONS", {})
        _init = _options.get("init_command", "")
        _options["init_command"] = f"{_init};PRAGMA journal_size_limit=1048576".lstrip(";")

# Static files: WhiteNoise serves them straight from the apps' static/ dirs (finders), no
# collectstatic step and no separate web server. The file list is built once at startup.
STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Accounts: django-allauth (log in by e-mail, password reset, MFA, SSO, sessions), login
# throttling, invitations that onboard. README.md "Accounts" explains each variable; the parsing is
# in bugsink_site/accounts/config.py. The issues app needs none of it (it keeps a host's login).
OPEN_SIGNUP = env.env_bool("BUGSINK_OPEN_SIGNUP", False)
REQUIRE_MFA = env.env_bool("BUGSINK_REQUIRE_MFA", False)
OIDC = accounts_config.oidc_from_env()  # None unless BUGSINK_OIDC_ISSUER is set
SSO_ONLY = accounts_config.sso_only(OIDC, REQUIRE_MFA)
SSO_TEAM_DOMAINS = accounts_config.team_domains(os.environ.get("BUGSINK_OIDC_TEAM_DOMAINS", ""))
INSTALLED_APPS += [
    "django.contrib.humanize",  # the sessions page's times
    "allauth",
    "allauth.account",
    *([] if SSO_ONLY else ["allauth.mfa"]),  # with SSO only, second factors are the IdP's
    # Only with a provider configured, and not in the background worker (manage.py runworker),
    # which serves no login: its provider module imports requests, some 5 MiB a process.
    *(
        ["allauth.socialaccount", "allauth.socialaccount.providers.openid_connect"]
        if OIDC and os.environ.get("BUGSINK_PROCESS") != "worker"
        else []
    ),
    "allauth.usersessions",
]
MIDDLEWARE += [
    "allauth.account.middleware.AccountMiddleware",
    "bugsink_site.accounts.middleware.RequireMFAMiddleware",
]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("bugsink_site.accounts.context.ui_layout")
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "bugsink_site.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "bugsink_site.accounts.sso.SocialAccountAdapter"
ACCOUNT_FORMS = {"signup": "bugsink_site.accounts.forms.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none" if SSO_ONLY else "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Bugsink] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = urlsplit(BASE_URL).scheme
# Throttling: failed logins (the UI's and the admin's, which goes through the same form) per
# account and per client address in a sliding window; allauth's other limits stay as they are.
ACCOUNT_RATE_LIMITS = {
    "login_failed": accounts_config.login_failed_rate(
        per_account=env.env_int("BUGSINK_LOGIN_FAILURES_PER_ACCOUNT", 5),
        per_address=env.env_int("BUGSINK_LOGIN_FAILURES_PER_ADDRESS", 20),
        seconds=env.env_int("BUGSINK_LOGIN_LOCKOUT_SECONDS", 900),
    ),
}
if env.env_bool("BEHIND_PROXY", False):
    # The client's address is the last X-Forwarded-For entry, the one the proxy added.
    ALLAUTH_TRUSTED_PROXY_COUNT = 1
# WebAuthn (security keys, passkeys as a second factor) is opt-in: its library costs some 13 MiB in
# every web process (accounts/lazy.py keeps it unloaded otherwise).
MFA_WEBAUTHN = env.env_bool("BUGSINK_MFA_WEBAUTHN", False)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", *(["webauthn"] if MFA_WEBAUTHN else [])]
MFA_TOTP_ISSUER = "Bugsink"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = urlsplit(BASE_URL).scheme == "http"
SOCIALACCOUNT_ONLY = SSO_ONLY
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": [OIDC] if OIDC else []}
}
SOCIALACCOUNT_AUTO_SIGNUP = True
# The first SSO login with an address a user already has (verified) logs into that user.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
# The rate limits and the used-TOTP-code markers must be shared by every Gunicorn worker, and their
# check-and-set atomic: Django's database cache, in an SQLite file of its own (failed logins must
# not contend with the digest for the main database's write lock: DATABASES["cache"] above) or in
# PostgreSQL's database.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "bugsink_cache",
        # Culling must never drop a client's failure history because someone sprays other keys.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}
# The issues app: invitations lead to this sign-up page and count only verified addresses; the
# preferences page links to the account pages.
BUGSINK_ISSUES_SIGNUP_URL = None if SSO_ONLY else "account_signup"
BUGSINK_ISSUES_USER_EMAILS = "bugsink_site.accounts.emails.verified_addresses"
BUGSINK_ISSUES_ACCOUNT_URL = "usersessions_list" if SSO_ONLY else "account_email"
# --- end of Accounts

# The apps.
BUGSINK_INGEST_BASE_URL = BASE_URL
# Where events wait between the 200 and the digest: "segments" (files under the data directory:
# one web host) or "database" (rows in the main database, which several web hosts share), or a
# spool class's dotted path.
_SPOOLS = {
    "segments": "bugsink_ingest.spool.segments.SegmentSpool",
    "database": "bugsink_ingest.spool.database.DatabaseSpool",
}
_spool = os.environ.get("BUGSINK_SPOOL", "segments").strip()
BUGSINK_INGEST_SPOOL = _SPOOLS.get(_spool, _spool)
BUGSINK_INGEST_SPOOL_DIR = DATA_DIR / "spool"
# fsync each spooled event: survives power loss too, not only a crash of any process (slower).
BUGSINK_INGEST_SPOOL_FSYNC = env.env_bool("BUGSINK_SPOOL_FSYNC", False)
# DatabaseSpool: a claim held longer than this goes back (its drain died or hangs; the app's
# default, 300, is long where a batch takes well under a second). The segment spool needs none:
# a killed drain's claims come back at the next claim.
BUGSINK_INGEST_SPOOL_CLAIM_SECONDS = env.env_float("BUGSINK_SPOOL_CLAIM_SECONDS", 60.0)
# While events wait, ingest's sweep task starts a drain this often if none is pending (0: never).
BUGSINK_INGEST_SWEEP_SECONDS = env.env_float("BUGSINK_SPOOL_SWEEP_SECONDS", 15.0)
# Several drains at once (each Tasks worker digesting its own batch): on by default with the
# shared database spool (the scale-out layout, several workers); one at a time otherwise, since
# SQLite takes one writer and a second drain would only wait for the lock.
BUGSINK_INGEST_PARALLEL_DRAINS = env.env_bool(
    "BUGSINK_PARALLEL_DRAINS", BUGSINK_INGEST_SPOOL.endswith(".DatabaseSpool")
)
# Rate limits counted on a Redis that every web host reaches (else each machine counts in its own
# file, and N hosts let N times the limit through): with the rq backend its Redis by default.
BUGSINK_INGEST_RATE_LIMIT_REDIS_URL = os.environ.get(
    "BUGSINK_RATE_LIMIT_REDIS_URL", REDIS_URL if TASKS_BACKEND_NAME == "rq" else ""
).strip()
# Backpressure: ingest answers 429 once this many events wait in the spool.
BUGSINK_INGEST_MAX_BACKLOG = env.env_int("BUGSINK_MAX_BACKLOG", 100_000)
BUGSINK_ISSUES_BASE_URL = BASE_URL
# Webhooks reach public addresses only, and these private networks too: 10.0.0.0/8,192.168.1.5
# (a Mattermost on the LAN, a local n8n).
BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS = env.env_networks("BUGSINK_ALERT_ALLOW_PRIVATE")
# One webhook send, DNS to the last byte of the answer, within this many seconds.
BUGSINK_ISSUES_ALERT_TIMEOUT_SECONDS = env.env_float("BUGSINK_ALERT_TIMEOUT", 5.0)
# Source maps and debug files uploaded through the web API (sentry-cli, the bundler plugins).
BUGSINK_ISSUES_ARTIFACT_DIR = DATA_DIR / "artifacts"
# /health/ready (each app's readiness checks, bugsink_ingest.health) reports "not ready" when
# this many events wait in the spool (by default: when ingest would start refusing them),
BUGSINK_INGEST_READY_MAX_BACKLOG = env.env_int(
    "BUGSINK_READY_MAX_BACKLOG", BUGSINK_INGEST_MAX_BACKLOG
)
# when the foreman's heartbeat is older than this (seconds),
SNAPPEA_READY_MAX_HEARTBEAT_AGE = env.env_float("BUGSINK_READY_MAX_HEARTBEAT_AGE", 30.0)
# or when a due task waited longer than this (the foreman's, or django-tasks-db's: no heartbeat).
SNAPPEA_READY_MAX_TASK_WAIT = BUGSINK_READY_MAX_TASK_WAIT = env.env_float(
    "BUGSINK_READY_MAX_TASK_WAIT", 60.0
)

# Email: SMTP when EMAIL_HOST is set, else printed to the console (a laptop sends no mail).
_email_backend = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
_use_ssl = env.env_bool("EMAIL_USE_SSL", False)  # implicit TLS (port 465)
_use_tls = env.env_bool("EMAIL_USE_TLS", not _use_ssl)  # STARTTLS (port 587)
_smtp = {
    "host": os.environ.get("EMAIL_HOST", "localhost"),
    "port": env.env_int("EMAIL_PORT", 465 if _use_ssl else 587 if _use_tls else 25),
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": _use_tls,
    "use_ssl": _use_ssl,
    "timeout": env.env_int("EMAIL_TIMEOUT", 10),
}
DEFAULT_FROM_EMAIL = os.environ.get("EMAIL_FROM", f"Bugsink <bugsink@{_base_host}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if django.VERSION >= (6, 1):
    # Django 6.1 replaces EMAIL_BACKEND and the EMAIL_* settings with MAILERS.
    MAILERS = {
        "default": {
            "BACKEND": _email_backend,
            "OPTIONS": _smtp if _email_backend.endswith("smtp.EmailBackend") else {},
        }
    }
else:
    EMAIL_BACKEND = _email_backend
    EMAIL_HOST = _smtp["host"]
    EMAIL_PORT = _smtp["port"]
    EMAIL_HOST_USER = _smtp["username"]
    EMAIL_HOST_PASSWORD = _smtp["password"]
    EMAIL_USE_TLS = _smtp["use_tls"]
    EMAIL_USE_SSL = _smtp["use_ssl"]
    EMAIL_TIMEOUT = _smtp["timeout"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"skip_health": {"()": "bugsink_ingest.health.SkipHealthChecks"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # A 503 from /health/ready is an answer, not an error: no log line, no dogfood event.
        "django.request": {"filters": ["skip_health"]},
    },
}

# Dogfooding: with SENTRY_DSN set the tracker reports its own errors. SENTRY_DSN=self sends them to
# this deployment's own demo project (its DSN is kept in the data dir by `manage.py serve`).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()
if SENTRY_DSN:
    from bugsink_site.dogfood import init_sentry

    init_sentry(SENTRY_DSN, DATA_DIR, BASE_URL)
