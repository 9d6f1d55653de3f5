"""Rate limits (per key, per project, installation-wide) and backpressure, on real servers."""

import json
import time

import pytest

from tests.ingest.server import start_server, stop_server
from tests.ingest.wire import post

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]
EVENT = b'{}\n{"type":"event"}\n{"message":"x"}\n'


def _assert_limited(answer, scope):
    assert answer.status == 429, answer.body
    seconds = answer.headers["retry-after"]
    assert seconds.isdigit() and 1 <= int(seconds) <= 60
    assert answer.headers["x-sentry-rate-limits"] == f"{seconds}:error:{scope}"
    assert answer.headers["access-control-allow-origin"] == "*"


def test_key_limit(ingest_server):
    path = "/api/1/envelope/?sentry_key=" + "4" * 32  # 3 per minute
    answers = [post(ingest_server.port, path, EVENT) for _ in range(5)]
    statuses = [a.status for a in answers]
    # The window may roll over during the loop: then the count starts again.
    assert statuses.count(429) >= 1 and statuses[:3] != [429, 429, 429], statuses
    _assert_limited(next(a for a in answers if a.status == 429), "key")
    # Other keys of the same project are not affected; envelopes without events never count.
    assert post(ingest_server.port, "/api/1/envelope/?sentry_key=publickey123", EVENT).status == 200
    sessions = b'{}\n{"type":"session"}\n{"sid":"a"}\n'
    assert post(ingest_server.port, path, sessions).status == 200


def test_project_limit(ingest_server):
    path = "/api/2/envelope/?sentry_key=" + "2" * 32  # project 2: 5 per minute
    answers = [post(ingest_server.port, path, EVENT) for _ in range(7)]
    assert [a.status for a in answers].count(429) >= 1
    _assert_limited(next(a for a in answers if a.status == 429), "project")


def test_backpressure(tmp_path):
    # A backlog cap of 3 with a consumer that fails (events stay spooled).
    server = start_server(tmp_path, workers=2, INGEST_TEST_MAX_BACKLOG=3)
    try:
        (tmp_path / "consumer-fails").touch()
        path = "/api/1/envelope/?sentry_key=publickey123"
        answers = [post(server.port, path, EVENT) for _ in range(3)]
        assert [a.status for a in answers] == [200, 200, 200]
        # The spool now holds 3; each worker looks at the backlog at most once a second.
        deadline = time.monotonic() + 10
        while (answer := post(server.port, path, EVENT)).status == 200:
            assert time.monotonic() < deadline, "backpressure never started"
            time.sleep(0.3)
        assert answer.status == 429 and answer.headers["retry-after"].isdigit()
        assert "backlog" in json.loads(answer.body)["detail"]
    finally:
        stop_server(server)


def test_installation_limit(tmp_path):
    server = start_server(tmp_path, workers=2, INGEST_TEST_GLOBAL_LIMIT=4)
    try:
        answers = [
            post(server.port, "/api/1/envelope/?sentry_key=publickey123", EVENT) for _ in range(6)
        ]
        assert [a.status for a in answers].count(429) >= 1
        _assert_limited(next(a for a in answers if a.status == 429), "organization")
    finally:
        stop_server(server)
