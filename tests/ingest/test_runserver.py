"""Chunked bodies without Content-Length also work under runserver (Django ticket 35838)."""

import sys

import pytest

from harness.processes import free_port, start, stop, wait_for_port
from tests.ingest.recorder import received
from tests.ingest.server import prepare
from tests.ingest.wire import post

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def test_chunked_body_under_runserver(tmp_path):
    env = prepare(tmp_path)
    port = free_port()
    proc = start(
        [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        log_path=tmp_path / "runserver.log",
    )
    try:
        wait_for_port(port, proc, timeout=60)
        body = b'{"event_id":"%s"}\n{"type":"event"}\n{"message":"chunked"}' % (b"7" * 32)
        answer = post(
            port,
            "/api/1/envelope/?sentry_key=publickey123",
            body,
            {"Transfer-Encoding": "chunked"},
            chunked=True,
            chunk_size=5,
        )
        assert answer.status == 200, answer.body
        # And a plain Content-Length request next to it.
        second = post(port, "/api/1/envelope/?sentry_key=publickey123", body)
        assert second.status == 200
    finally:
        stop(proc)
    assert [r["event_id"] for r in received(tmp_path)] == ["7" * 32] * 2
