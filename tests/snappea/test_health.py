"""foreman_readiness(): what a health framework gets from snappea, against a real foreman."""

import json
import signal
from datetime import timedelta

from django.apps import apps
from django.db import connections
from django.utils import timezone
from django.utils.module_loading import import_string

from snappea.health import foreman_readiness
from tests.snappea import tasks
from tests.snappea.conftest import wait_for

FIGURES = {"state", "heartbeat_age_seconds", "backlog", "oldest_waiting_seconds", "failed"}


def test_the_app_config_names_the_check():
    checks = apps.get_app_config("snappea").readiness_checks
    assert checks == {"worker": "snappea.health.foreman_readiness"}
    assert import_string(checks["worker"]) is foreman_readiness


def test_a_fresh_heartbeat_is_ready(queue_dir):
    queue_dir.start_foreman()
    readiness = wait_for(lambda: (r := foreman_readiness())["ok"] and r, what="ready")
    assert FIGURES <= readiness.keys()
    assert readiness["state"] == "idle"
    assert readiness["heartbeat_age_seconds"] < 30
    assert (readiness["backlog"], readiness["failed"]) == (0, 0)
    assert "reason" not in readiness
    json.dumps(readiness)  # what a health view returns as it is


def test_never_started_is_not_ready(queue_dir):
    readiness = foreman_readiness()
    assert readiness["ok"] is False
    assert readiness["state"] == "never_started"
    assert readiness["reason"] == "the foreman is never_started"


def test_a_stale_heartbeat_is_not_ready(queue_dir, settings):
    settings.SNAPPEA_READY_MAX_HEARTBEAT_AGE = 1.5  # the foreman beats every 0.5 s
    foreman = queue_dir.start_foreman()
    wait_for(lambda: foreman_readiness()["ok"], what="ready")
    foreman.send_signal(signal.SIGSTOP)  # alive, but its heartbeat ages
    try:
        readiness = wait_for(
            lambda: not (r := foreman_readiness())["ok"] and r, timeout=10, what="not ready"
        )
    finally:
        foreman.send_signal(signal.SIGCONT)
    # Not dead yet by SNAPPEA_DEAD_AFTER (30 s): readiness has its own, shorter limit.
    assert readiness["state"] == "idle"
    assert readiness["heartbeat_age_seconds"] > 1.5
    assert "SNAPPEA_READY_MAX_HEARTBEAT_AGE" in readiness["reason"]
    wait_for(lambda: foreman_readiness()["ok"], timeout=10, what="ready again")


def test_a_due_task_waiting_too_long_is_not_ready(queue_dir, settings):
    # The foreman serves another queue: the task stays due, and was due two minutes ago.
    queue_dir.start_foreman("--queue", "elsewhere")
    tasks.record.using(run_after=timezone.now() - timedelta(minutes=2)).enqueue("waits")
    readiness = foreman_readiness()
    assert readiness["ok"] is False
    assert readiness["state"] == "running"
    assert readiness["backlog"] == 1
    assert readiness["oldest_waiting_seconds"] > 60
    assert "SNAPPEA_READY_MAX_TASK_WAIT" in readiness["reason"]

    settings.SNAPPEA_READY_MAX_TASK_WAIT = 600.0
    assert foreman_readiness()["ok"] is True


def test_an_unreadable_queue_is_not_ready_and_says_why(queue_dir, tmp_path):
    connection = connections["snappea"]
    connection.close()
    connection.settings_dict["NAME"] = str(tmp_path / "never-migrated.sqlite3")
    readiness = foreman_readiness()
    assert readiness["ok"] is False
    assert "no such table" in readiness["error"]
    assert readiness["reason"] == "the queue database cannot be read"
    json.dumps(readiness)


def test_it_never_raises(queue_dir, settings):
    settings.SNAPPEA_READY_MAX_TASK_WAIT = "a minute"
    assert foreman_readiness() == {
        "ok": False,
        "error": "ImproperlyConfigured: SNAPPEA_READY_MAX_TASK_WAIT must be a number >= 0 (seconds).",
    }
    settings.SNAPPEA_READY_MAX_TASK_WAIT = 60
    settings.SNAPPEA_DATABASE = "no-such-alias"
    readiness = foreman_readiness()
    assert readiness["ok"] is False
    assert "no-such-alias" in readiness["error"]
