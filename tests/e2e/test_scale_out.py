"""The scale-out path by settings only: PostgreSQL as the main database and django-tasks-db (with
its own db_worker) in place of snappea, under the same `serve` command and the same SDKs."""

import json
import subprocess
import sys
import uuid
from importlib.util import find_spec

import pytest

from harness.processes import ROOT
from tests.e2e.postgres import POSTGRES_URL, fresh_postgres_database, scale_out_env
from tests.e2e.ui import reader_for

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def postgres_database():
    if not POSTGRES_URL:
        pytest.skip("BUGSINK_TEST_POSTGRES is not set (the tests_postgres nox session sets it)")
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def scaled_out(make_deployment, postgres_database):
    return make_deployment(env=scale_out_env(postgres_database)).start()


def test_serve_runs_on_postgres_with_db_worker(scaled_out):
    site = scaled_out
    status, ready = site.get_json("/health/ready")
    assert ready["checks"]["database"] == {"ok": True}
    assert ready["checks"]["worker"]["ok"] and ready["checks"]["worker"]["backend"] == "db"
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
    ui = reader_for(site)
    found = ui.wait_for_events({mark: ids}, timeout=30)
    assert found[mark].event_count == 2
