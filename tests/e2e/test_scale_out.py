"""The scale-out path by settings only: PostgreSQL as the main database and django-tasks-db (with
its own db_worker) or RQ on a Redis of the test's own in place of snappea, under the same `serve`
command and the same SDKs."""

import json
import subprocess
import sys
import uuid
from importlib.util import find_spec

import pytest

from harness.processes import ROOT, wait_for
from tests.e2e.postgres import POSTGRES_URL, fresh_postgres_database, scale_out_env
from tests.e2e.ui import reader_for
from tests.support.redis import started_redis_server

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WORKER_COMMAND = {"db": b"db_worker", "rq": b"rqworker"}


@pytest.fixture
def postgres_database():
    if not POSTGRES_URL:
        pytest.skip("BUGSINK_TEST_POSTGRES is not set (the tests_postgres nox session sets it)")
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["db", "rq"])
def backend(request):
    return request.param


@pytest.fixture
def scaled_out(make_deployment, postgres_database, backend):
    if backend == "db":
        yield make_deployment(env=scale_out_env(postgres_database)).start()
        return
    if find_spec("django_tasks_rq") is None:
        pytest.skip("django-tasks-rq is not installed (tests/requirements.txt has it)")
    redis = started_redis_server()
    site = make_deployment(env=scale_out_env(postgres_database, redis.url))
    site.redis = redis  # type: ignore[attr-defined]  (for the readiness test below)
    try:
        yield site.start()
    finally:
        site.stop(timeout=30)  # before its Redis goes
        redis.close()


def test_serve_runs_on_postgres_with_its_worker(scaled_out, backend):
    site = scaled_out
    status, ready = site.get_json("/health/ready")
    assert ready["checks"]["database"] == {"ok": True}
    worker = ready["checks"]["worker"]
    assert worker["ok"] and worker["backend"] == backend, worker
    if backend == "rq":
        assert worker["live_workers"] == 1 and worker["scheduler"], worker
    # No SQLite file for the data: the main database is PostgreSQL, and snappea is not in use.
    assert not (site.data_dir / "db.sqlite3").exists()
    assert not (site.data_dir / "snappea.sqlite3").exists()
    pids = site.pids()
    with open(f"/proc/{pids['worker']}/cmdline", "rb") as f:
        assert WORKER_COMMAND[backend] in f.read()
    client = site.browser().login(next="/admin/")
    assert client.get("/admin/")[0] == 200


def test_sdk_events_reach_the_ui_through_postgres_and_the_worker(scaled_out):
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


DEFERRED_TASK = """
import time
from datetime import timedelta
from django.utils import timezone
from bugsink_ingest.tasks import sweep_spool
from bugsink_ingest.spool import get_spool

token = get_spool().request_sweep(60)
assert token, "a sweep chain is live already"
result = sweep_spool.using(run_after=timezone.now() + timedelta(seconds=2)).enqueue(token)
print(result.id, flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    result.refresh()
    if result.is_finished:
        break
    time.sleep(0.2)
print(result.status, result.return_value if result.is_finished else None)
"""


def test_a_deferred_task_runs_on_the_worker(scaled_out, backend):
    """run_after works: a sweep link deferred 2 s is run by the worker (the RQ worker's scheduler
    moves it to the queue when due) and, the spool being empty, ends the chain."""
    site = scaled_out
    out = site.manage("shell", "-c", DEFERRED_TASK, timeout=60)
    task_id, status_line = out.strip().splitlines()[-2:]
    assert status_line.split()[0].endswith("SUCCESSFUL"), out
    assert status_line.split()[1] == "ended", out
    # The worker's readiness shows no overdue deferred task afterwards.
    ready = wait_for(lambda: site.get_json("/health/ready")[1]["checks"]["worker"]["ok"], 20)
    assert ready


@pytest.mark.parametrize("backend", ["rq"])  # RQ's own check
def test_readiness_reports_redis_down_and_the_workers_back_after_its_restart(scaled_out):
    """The RQ check is honest: Redis gone is "not ready" with the reason; once Redis is back
    (empty, as without persistence) the worker registers again and the site is ready again."""
    site = scaled_out
    site.redis.stop()
    status, ready = site.get_json("/health/ready")
    worker = ready["checks"]["worker"]
    assert status == 503 and not worker["ok"] and "Redis" in worker["error"], worker
    site.redis.start()
    wait_for(lambda: site.get_status("/health/ready") == 200, 60, what="ready again", interval=0.5)
    worker = site.get_json("/health/ready")[1]["checks"]["worker"]
    assert worker["live_workers"] == 1 and worker["scheduler"], worker
