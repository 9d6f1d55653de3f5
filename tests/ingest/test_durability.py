"""An acknowledged event survives a crash of every process, and is handed off afterwards."""

import signal
import subprocess
import sys

import pytest

from harness.processes import ROOT, stop
from tests.ingest.recorder import received
from tests.ingest.server import start_server
from tests.ingest.wire import post

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


@pytest.mark.parametrize(
    "spool_class",
    [
        "bugsink_ingest.spool.segments.SegmentSpool",
        "bugsink_ingest.spool.database.DatabaseSpool",
    ],
)
def test_acknowledged_events_survive_kill_9(tmp_path, spool_class):
    server = start_server(tmp_path, INGEST_TEST_SPOOL=spool_class)
    (tmp_path / "consumer-fails").touch()
    ids = []
    try:
        for n in range(3):
            body = b'{"event_id":"%032x"}\n{"type":"event"}\n{"message":"m"}' % n
            answer = post(server.port, "/api/1/envelope/?sentry_key=publickey123", body)
            assert answer.status == 200
            ids.append(answer.json()["id"])
    finally:
        stop(server.proc, sig=signal.SIGKILL)
    assert received(tmp_path) == []
    (tmp_path / "consumer-fails").unlink()
    # Recovery without any new request: the drain command hands the spool to the consumer.
    result = subprocess.run(
        [sys.executable, "-m", "django", "bugsink_drain_spool"],
        env={**server.env, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "handed off 3 events" in result.stdout
    assert sorted(r["event_id"] for r in received(tmp_path)) == sorted(ids)


def test_restart_then_new_request_drains_the_backlog(tmp_path):
    server = start_server(tmp_path)
    (tmp_path / "consumer-fails").touch()
    body = b'{}\n{"type":"event"}\n{"message":"m"}'
    path = "/api/1/envelope/?sentry_key=publickey123"
    try:
        first = post(server.port, path, body).json()["id"]
    finally:
        stop(server.proc, sig=signal.SIGKILL)
    (tmp_path / "consumer-fails").unlink()
    # A new server on the same directory (same spool and DB, projects already there).
    from tests.ingest import server as server_module

    env = server_module.server_env(tmp_path)
    port = server_module.free_port()
    proc = server_module.start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "django.core.wsgi:get_wsgi_application()",
        ],
        env=env,
        log_path=tmp_path / "gunicorn2.log",
    )
    try:
        server_module.wait_for_port(port, proc, timeout=60)
        second = post(port, path, body).json()["id"]
    finally:
        stop(proc)
    assert sorted(r["event_id"] for r in received(tmp_path)) == sorted([first, second])
