"""The scale-out path by settings only: PostgreSQL as the main database and django-tasks-db (with
its own db_worker) in place of snappea, under the same `serve` command and the same SDKs."""

import json
import os
import subprocess
import sys
import uuid
from importlib.util import find_spec
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e.ui import IssuesUI, require_ui
from tests.support.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

POSTGRES_URL = os.environ.get("BUGSINK_TEST_POSTGRES", "")


@pytest.fixture
def postgres_database():
    """A database of its own on the test server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("BUGSINK_TEST_POSTGRES is not set (the tests_postgres nox session sets it)")
    import psycopg

    name = f"bugsink_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(POSTGRES_URL)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def scaled_out(make_deployment, postgres_database):
    site = make_deployment(
        env={"DATABASE_URL": postgres_database, "BUGSINK_TASKS_BACKEND": "db"}
    ).start()
    return site


def test_serve_runs_on_postgres_with_db_worker(scaled_out):
    site = scaled_out
    status, ready = site.get_json("/health/ready")
    assert ready["checks"]["database"] == {"ok": True}
    assert ready["checks"]["worker"] == {"ok": True, "backend": "db", "monitored": False}
    # No SQLite file for the data: the main database is PostgreSQL, and snappea is not in use.
    assert not (site.data_dir / "db.sqlite3").exists()
    assert not (site.data_dir / "snappea.sqlite3").exists()
    pids = site.pids()
    with open(f"/proc/{pids['worker']}/cmdline", "rb") as f:
        assert b"db_worker" in f.read()
    client = site.browser().login(next="/admin/")
    assert client.get("/admin/")[0] == 200


def test_sdk_events_reach_the_ui_through_postgres_and_db_worker(scaled_out):
    if find_spec("bugsink_ingest.spool") is None or find_spec("bugsink_issues.digest") is None:
        pytest.skip("the ingest spool or the digest is not built yet")
    require_ui()
    site = scaled_out
    mark = uuid.uuid4().hex[:12]
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests/e2e/senders/python_sdk.py"),
            site.demo_dsn(),
            "br",
            mark,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ids = set(json.loads(result.stdout.strip().splitlines()[-1]))
    ui = IssuesUI(site.browser().login(), site.demo_project_id())
    found = ui.wait_for_events({mark: ids}, timeout=30)
    assert found[mark].event_count == 2
