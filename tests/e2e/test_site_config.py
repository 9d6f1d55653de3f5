"""The deployment's configuration helpers and its dogfooding guard, without starting processes."""

import sys

import pytest

from tests.support.processes import ROOT

sys.path.insert(0, str(ROOT / "example_project"))

from bugsink_site import env
from bugsink_site.dogfood import (
    LoopGuard,
    _same_origin,
    raised_in_ingest_chain,
    raised_in_ingest_request,
)


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


def _event_from(module=None, logger=None):
    event = {"level": "error"}
    if module:
        event["exception"] = {"values": [{"stacktrace": {"frames": [{"module": module}]}}]}
    if logger:
        event["logger"] = logger
    return event


def test_loop_guard_drops_the_ingest_chain_only_when_reporting_to_itself():
    to_self = LoopGuard(targets_self=True)
    elsewhere = LoopGuard(targets_self=False)
    for event in (
        _event_from(module="bugsink_ingest.views"),
        _event_from(logger="bugsink_issues.digest"),
    ):
        assert raised_in_ingest_chain(event)
        assert to_self.before_send(event, {}) is None
        assert elsewhere.before_send(event, {}) is event
    ordinary = _event_from(module="bugsink_issues.views")
    assert to_self.before_send(ordinary, {}) is ordinary


def test_loop_guard_caps_events_per_minute():
    guard = LoopGuard(targets_self=False, max_per_minute=3)
    sent = [guard.before_send({"n": i}, {}) for i in range(10)]
    assert sum(1 for e in sent if e is not None) == 3


def test_same_origin():
    assert _same_origin("http://k@127.0.0.1:8000/1", "http://127.0.0.1:8000")
    assert _same_origin("https://k@errors.example.com/1", "https://errors.example.com:443/")
    assert not _same_origin("https://k@sentry.io/1", "https://errors.example.com")


def test_loop_guard_drops_errors_raised_in_ingest_requests_under_any_prefix():
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/1/envelope/")
    except Resolver404:
        pytest.skip("the ingest app has no envelope view yet")
    guard = LoopGuard(targets_self=False)
    ingest = {"request": {"url": "http://errors.example.com/api/1/envelope/"}}
    assert raised_in_ingest_request(ingest)
    assert guard.before_send(ingest, {}) is None
    admin = {"request": {"url": "http://errors.example.com/admin/"}}
    assert not raised_in_ingest_request(admin)
    assert guard.before_send(admin, {}) is admin
