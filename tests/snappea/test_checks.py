"""System checks, the router, and the wake-up watcher."""

import json
import os
import subprocess
import sys
import threading
import time
import warnings

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from harness.processes import ROOT
from snappea.checks import check_queue_database, check_settings
from snappea.compat import task_backends
from snappea.routers import SnappeaRouter
from snappea.wakeup import WakeWatcher, wake_foreman
from tests.snappea import tasks
from tests.snappea.conftest import QueueDir


def ids(errors):
    return sorted(e.id for e in errors)


def databases_override(**databases):
    # Django warns that overriding DATABASES is risky; these checks only read the setting.
    warnings.filterwarnings("ignore", message="Overriding setting DATABASES", category=UserWarning)
    return override_settings(DATABASES=databases)


SQLITE_FILE = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/x.sqlite3"}


def test_the_test_settings_pass():
    assert check_queue_database() == []
    assert check_settings() == []


def test_missing_alias():
    with override_settings(SNAPPEA_DATABASE="nope"):
        assert ids(check_queue_database()) == ["snappea.E001"]


def test_non_sqlite_queue_database_is_refused_with_a_reason():
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "x"}
    with warnings.catch_warnings(), databases_override(default=SQLITE_FILE, snappea=postgres):
        errors = check_queue_database()
    assert ids(errors) == ["snappea.E003"]
    assert "needs SQLite" in errors[0].msg
    assert "WAL" in errors[0].hint


def test_in_memory_and_default_alias():
    memory = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    with warnings.catch_warnings(), databases_override(default=SQLITE_FILE, snappea=memory):
        assert ids(check_queue_database()) == ["snappea.E004"]
    with override_settings(SNAPPEA_DATABASE="default"):
        assert "snappea.E002" in ids(check_queue_database())


class OtherRouter:
    """A host project's own router, placed before snappea's."""


def test_router_missing_or_not_first():
    with override_settings(DATABASE_ROUTERS=[]):
        assert ids(check_queue_database()) == ["snappea.E005"]
    with override_settings(
        DATABASE_ROUTERS=["tests.snappea.test_checks.OtherRouter", "snappea.routers.SnappeaRouter"]
    ):
        assert ids(check_queue_database()) == ["snappea.W001"]


def test_bad_numbers():
    with override_settings(SNAPPEA_WORKERS=0, SNAPPEA_GRACE_PERIOD=-1, SNAPPEA_MAX_RETRIES="2"):
        assert ids(check_settings()) == ["snappea.E006", "snappea.E007", "snappea.E008"]
    with override_settings(SNAPPEA_DEAD_AFTER=1, SNAPPEA_HEARTBEAT_INTERVAL=2):
        assert ids(check_settings()) == ["snappea.E009"]


def test_manage_py_check_fails_on_a_misconfigured_project(tmp_path):
    env = {
        **os.environ,
        "SNAPPEA_TEST_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.snappea.foreman_settings",
        "PYTHONPATH": str(ROOT),
        "SNAPPEA_TEST_SETTINGS": json.dumps({"DATABASE_ROUTERS": []}),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "snappea.E005" in proc.stderr


def test_router_keeps_snappea_in_its_database():
    from django.apps import apps

    router = SnappeaRouter()
    task_model = apps.get_model("snappea", "Task")
    user_model = apps.get_model("auth", "User")
    assert router.db_for_write(task_model) == "snappea"
    assert router.db_for_read(user_model) is None
    assert router.allow_migrate("snappea", "snappea") is True
    assert router.allow_migrate("default", "snappea") is False
    assert router.allow_migrate("snappea", "auth") is False
    assert router.allow_migrate("default", "auth") is None


@pytest.mark.parametrize("use_inotify", [True, False], ids=["inotify", "polling"])
def test_wake_watcher_wakes_on_touch_and_times_out_otherwise(tmp_path, use_inotify):
    read_fd, write_fd = os.pipe()
    watcher = WakeWatcher(tmp_path / "q.wake", read_fd, poll_interval=0.01, use_inotify=use_inotify)
    try:
        if use_inotify and sys.platform.startswith("linux"):
            assert watcher.uses_inotify
        started = time.monotonic()
        assert watcher.wait(0.05) is False
        assert time.monotonic() - started >= 0.04

        toucher = threading.Timer(0.05, wake_foreman, args=[tmp_path / "q.wake"])
        toucher.start()
        assert watcher.wait(10) is True
        toucher.join()

        os.write(write_fd, b".")  # the control pipe interrupts the wait without a wake-up
        assert watcher.wait(10) is False
    finally:
        watcher.close()
        os.close(read_fd)
        os.close(write_fd)


def test_missing_directory():
    nowhere = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/nonexistent-dir/q.sqlite3"}
    with warnings.catch_warnings(), databases_override(default=SQLITE_FILE, snappea=nowhere):
        assert ids(check_queue_database()) == ["snappea.E012"]


def test_runsnappea_refuses_an_unmigrated_queue(tmp_path):
    env = {
        **os.environ,
        "SNAPPEA_TEST_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.snappea.foreman_settings",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "django", "runsnappea", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "is not migrated: run `manage.py migrate --database snappea` first" in proc.stderr


def test_values_of_the_wrong_kind():
    with override_settings(SNAPPEA_INOTIFY="no", SNAPPEA_WORKERS=True, SNAPPEA_DATABASE=5):
        errors = check_settings()
        assert ids(errors) == ["snappea.E006", "snappea.E013", "snappea.E014"]
        assert "SNAPPEA_INOTIFY must be True or False." in [e.msg for e in errors]
        assert check_queue_database() == []  # the alias is reported once, by check_settings


def test_readiness_heartbeat_age_must_exceed_the_heartbeat_interval():
    with override_settings(SNAPPEA_READY_MAX_HEARTBEAT_AGE=2, SNAPPEA_HEARTBEAT_INTERVAL=2):
        assert ids(check_settings()) == ["snappea.E015"]


def snappea_backend(settings, **options):
    settings.TASKS = {"default": {"BACKEND": "snappea.backend.SnappeaBackend", "OPTIONS": options}}
    return task_backends["default"]


def test_backend_options_are_checked(settings):
    backend = snappea_backend(settings, RESULTS="yes", MAX_RETRIES=3)
    errors = backend.check()
    assert ids(errors) == ["snappea.E013", "snappea.W002"]
    assert errors[0].msg == "TASKS['default']['OPTIONS']['RESULTS'] must be True or False."
    assert "'MAX_RETRIES'" in errors[1].msg and "SNAPPEA_ settings" in errors[1].hint
    with pytest.raises(ImproperlyConfigured, match="OPTIONS'\\]\\['RESULTS'\\]"):
        tasks.record.enqueue("refused")


def test_the_settings_a_backend_falls_back_on_are_checked(settings):
    settings.SNAPPEA_ENQUEUE_ON_COMMIT = 1
    assert [e.msg for e in snappea_backend(settings).check()] == [
        "SNAPPEA_ENQUEUE_ON_COMMIT must be True or False."
    ]


def test_on_commit_database_is_checked_per_backend(settings):
    backend = snappea_backend(settings, ENQUEUE_ON_COMMIT=True, ON_COMMIT_DATABASE="nope")
    (error,) = backend.check()
    assert error.id == "snappea.E010"
    assert "'nope'" in error.msg
    # Without enqueue on commit the database is not used, so not checked.
    assert snappea_backend(settings, ON_COMMIT_DATABASE="nope").check() == []


def test_manage_py_check_reports_bad_options_instead_of_crashing(tmp_path):
    env = {
        **os.environ,
        **QueueDir(tmp_path).foreman_env(options={"RESULTS": "yes"}),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "snappea.E013" in proc.stderr
    assert "Traceback" not in proc.stderr
