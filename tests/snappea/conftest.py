"""Fixtures for snappea's tests: a queue database per test, and real foreman subprocesses."""

import json
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from harness.processes import ROOT, start, stop

SNAPPEA_TASKS = {"default": {"BACKEND": "snappea.backend.SnappeaBackend", "QUEUES": []}}


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class QueueDir:
    """A test's own data directory: the queue database, the foreman's log and the tasks' runs.log."""

    def __init__(self, path: Path):
        self.path = path
        self.foremen = []

    def runs(self) -> list[str]:
        try:
            return (self.path / "runs.log").read_text().splitlines()
        except FileNotFoundError:
            return []

    def ran(self) -> list[str]:
        """Labels of tasks that ran, in order (lines "ran LABEL [time]")."""
        return [line.split()[1] for line in self.runs() if line.startswith("ran ")]

    def log(self) -> str:
        try:
            return (self.path / "foreman.log").read_text()
        except FileNotFoundError:
            return ""

    def foreman_command(self, *args):
        return [sys.executable, "-m", "django", "runsnappea", *args]

    def foreman_env(self, *, settings=None, options=None, **env):
        """The environment of a process on foreman_settings: `settings` (a dict of settings) are
        laid over that module's, `options` are the default backend's TASKS OPTIONS."""
        return {
            "SNAPPEA_TEST_DIR": str(self.path),
            "DJANGO_SETTINGS_MODULE": "tests.snappea.foreman_settings",
            "PYTHONPATH": str(ROOT),
            "SNAPPEA_TEST_SETTINGS": json.dumps(settings or {}),
            "SNAPPEA_TEST_OPTIONS": json.dumps(options or {}),
            **env,
        }

    def start_foreman(self, *args, wait=True, settings=None, options=None, **env):
        marker_count = self.log().count("Foreman pid")
        proc = start(
            self.foreman_command(*args),
            env=self.foreman_env(settings=settings, options=options, **env),
            log_path=self.path / "foreman.log",
        )
        self.foremen.append(proc)
        if wait:
            wait_for(
                lambda: self.log().count("Foreman pid") > marker_count or proc.poll() is not None,
                what="the foreman to start",
            )
            assert proc.poll() is None, self.log()
        return proc


@pytest.fixture
def queue_dir(tmp_path, django_db_blocker, settings):
    """Points the test process's queue alias at a fresh SQLite file in this test's directory."""
    settings.TASKS = SNAPPEA_TASKS
    connection = connections["snappea"]
    original_name = connection.settings_dict["NAME"]
    qdir = QueueDir(tmp_path)
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict["NAME"] = str(tmp_path / "snappea.sqlite3")
        call_command("migrate", "snappea", database="snappea", verbosity=0)
        try:
            yield qdir
        finally:
            for proc in qdir.foremen:
                stop(proc, timeout=15)
            connection.close()
            connection.settings_dict["NAME"] = original_name


def task_rows(state=None):
    from snappea.models import Task

    rows = Task.objects.all()
    return list(rows.filter(state=state) if state else rows)
