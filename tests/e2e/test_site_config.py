"""The deployment's configuration helpers and where its dogfooding goes, without starting processes
(the guard itself is ingest's: tests/ingest/test_loopguard.py)."""

import sys

import pytest

from harness.processes import ROOT

sys.path.insert(0, str(ROOT / "example_project"))

from bugsink_site import env
from bugsink_site.dogfood import _same_origin


def test_postgres_url_with_escapes_and_options():
    db = env.database_from_url(
        "postgres://bug%40sink:p%3Ass%2Fw@db.internal:6432/errors?sslmode=require"
    )
    assert db == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "errors",
        "USER": "bug@sink",
        "PASSWORD": "p:ss/w",
        "HOST": "db.internal",
        "PORT": "6432",
        "OPTIONS": {"sslmode": "require"},
    }
    assert env.database_from_url("postgresql://u@h/d")["PORT"] == ""


def test_sqlite_urls_and_unsupported_schemes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert env.database_from_url("sqlite:////var/lib/x.sqlite3")["NAME"] == "/var/lib/x.sqlite3"
    assert env.database_from_url("sqlite:///rel.sqlite3")["NAME"] == str(tmp_path / "rel.sqlite3")
    with pytest.raises(ValueError, match="mysql"):
        env.database_from_url("mysql://u:p@h/d")


def test_data_dir_is_absolute_and_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUGSINK_DATA_DIR", "nested/data")
    assert env.data_dir() == tmp_path / "nested" / "data"
    assert (tmp_path / "nested" / "data").is_dir()
    monkeypatch.delenv("BUGSINK_DATA_DIR")
    assert env.data_dir() == tmp_path / "data"


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = env.secret_key(tmp_path)
    assert len(first) >= 50 and env.secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert env.secret_key(tmp_path) == "from-env"


def test_env_bool_refuses_typos(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ValueError, match="X_FLAG"):
        env.env_bool("X_FLAG")


def test_sqlite_tuning():
    db = env.sqlite_database("/tmp/x.sqlite3")
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert "synchronous=NORMAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] > 0


def test_same_origin():
    assert _same_origin("http://k@127.0.0.1:8000/1", "http://127.0.0.1:8000")
    assert _same_origin("https://k@errors.example.com/1", "https://errors.example.com:443/")
    assert not _same_origin("https://k@sentry.io/1", "https://errors.example.com")


def run_site_python(tmp_path, code: str, **env_vars):
    """Python code run against bugsink_site in a clean subprocess; what it prints, as JSON."""
    import json
    import os
    import subprocess

    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**keep, "PYTHONPATH": str(ROOT / "example_project"), **env_vars},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def load_site_settings(tmp_path, **env_vars) -> dict:
    """bugsink_site.settings imported in a clean subprocess with the given environment."""
    code = (
        "import json, django.conf as c; from bugsink_site import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in dir(s) if k.isupper()}, default=str))"
    )
    return run_site_python(tmp_path, code, **env_vars)


def test_laptop_defaults(tmp_path):
    s = load_site_settings(tmp_path)
    data = tmp_path / "data"
    assert s["DATA_DIR"] == str(data)
    assert s["DATABASES"]["default"]["NAME"] == str(data / "db.sqlite3")
    assert s["DATABASES"]["snappea"]["NAME"] == str(data / "snappea.sqlite3")
    # The cache (login throttling, used TOTP codes) in a file of its own: accounts/routers.py.
    assert s["DATABASES"]["cache"]["NAME"] == str(data / "cache.sqlite3")
    assert s["DATABASE_ROUTERS"] == [
        "snappea.routers.SnappeaRouter",
        "bugsink_site.accounts.routers.CacheRouter",
    ]
    assert s["TASKS"]["default"]["BACKEND"] == "snappea.backend.SnappeaBackend"
    assert s["BUGSINK_INGEST_SPOOL_DIR"] == str(data / "spool")
    assert s["BUGSINK_INGEST_BASE_URL"] == "http://127.0.0.1:8000"
    assert "127.0.0.1" in s["ALLOWED_HOSTS"] and s["DEBUG"] is False
    assert s["SECRET_KEY"] == (data / "secret_key").read_text().strip()
    import django

    mail = s["MAILERS"]["default"]["BACKEND"] if django.VERSION >= (6, 1) else s["EMAIL_BACKEND"]
    assert mail == "django.core.mail.backends.console.EmailBackend"


def test_production_environment(tmp_path):
    s = load_site_settings(
        tmp_path,
        BUGSINK_DATA_DIR=str(tmp_path / "state"),
        BASE_URL="https://errors.example.com/",
        DATABASE_URL="postgres://u:p@db:5432/bugsink",
        BUGSINK_TASKS_BACKEND="db",
        EMAIL_HOST="smtp.example.com",
        EMAIL_HOST_USER="bugsink",
        EMAIL_HOST_PASSWORD="pw",
        SECRET_KEY="k" * 50,
    )
    assert s["BASE_URL"] == "https://errors.example.com"
    assert s["ALLOWED_HOSTS"] == sorted({"errors.example.com", "127.0.0.1", "localhost", "[::1]"})
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://errors.example.com"]
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert set(s["DATABASES"]) == {"default"}  # no snappea file when another backend runs tasks
    assert s["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert "django_tasks_db" in s["INSTALLED_APPS"] and "snappea" not in s["INSTALLED_APPS"]
    assert s["BUGSINK_WORKER_COMMAND"][:2] == ["runworker", "db_worker"]
    assert not (tmp_path / "state" / "secret_key").exists()
    import django

    if django.VERSION >= (6, 1):
        assert "EMAIL_BACKEND" not in s and "EMAIL_HOST" not in s
        mailer = s["MAILERS"]["default"]
        assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
        assert mailer["OPTIONS"]["host"] == "smtp.example.com"
        assert mailer["OPTIONS"]["port"] == 587 and mailer["OPTIONS"]["use_tls"] is True
    else:
        assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
        assert (s["EMAIL_HOST"], s["EMAIL_PORT"], s["EMAIL_USE_TLS"]) == (
            "smtp.example.com",
            587,
            True,
        )


def test_scale_out_with_rq_and_the_database_spool(tmp_path):
    s = load_site_settings(
        tmp_path,
        DATABASE_URL="postgres://u:p@db:5432/bugsink",
        BUGSINK_TASKS_BACKEND="rq",
        REDIS_URL="redis://queue.internal:6380/2",
        BUGSINK_SPOOL="database",
        BUGSINK_WORKER_PROCESSES="3",
        SECRET_KEY="k" * 50,
    )
    assert s["TASKS"]["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert "django_rq" in s["INSTALLED_APPS"] and "snappea" not in s["INSTALLED_APPS"]
    assert s["RQ_QUEUES"]["default"]["URL"] == "redis://queue.internal:6380/2"
    assert s["BUGSINK_INGEST_SPOOL"] == "bugsink_ingest.spool.database.DatabaseSpool"
    # serve's worker: three supervised RQ workers with the scheduler (deferred tasks), our class.
    command = s["BUGSINK_WORKER_COMMAND"]
    assert command[:4] == ["runworker", "--processes", "3", "rqworker"]
    assert "--with-scheduler" in command and "bugsink_site.rq_worker.Worker" in command
    assert s["BUGSINK_WORKER_ENGINE_COMMAND"] == command[3:]
    # Several drains at once, and the rate limits counted on the queue's Redis by every host.
    assert s["BUGSINK_INGEST_PARALLEL_DRAINS"] is True
    assert s["BUGSINK_INGEST_RATE_LIMIT_REDIS_URL"] == "redis://queue.internal:6380/2"
    (tmp_path / "laptop").mkdir()
    laptop = load_site_settings(tmp_path / "laptop")
    assert laptop["BUGSINK_INGEST_PARALLEL_DRAINS"] is False
    assert laptop["BUGSINK_INGEST_RATE_LIMIT_REDIS_URL"] == ""


def test_unknown_spool_names_a_class_and_unknown_backend_is_refused(tmp_path):
    s = load_site_settings(tmp_path, BUGSINK_SPOOL="myapp.spool.MySpool")
    assert s["BUGSINK_INGEST_SPOOL"] == "myapp.spool.MySpool"
    with pytest.raises(AssertionError, match="use one of"):
        load_site_settings(tmp_path, BUGSINK_TASKS_BACKEND="celery")
