"""Rate limits count events, not requests: one envelope carrying many events is charged for each,
against a real Gunicorn (2 workers), and never more than the limit is stored.

The servers' keys (harness.ingest_server.SETUP): key "4"*32 of project 1 allows 3 events a
minute, project 2 (key "2"*32) 5 a minute; the second server has an installation-wide limit of 4.
The recording consumer runs in the request (ImmediateBackend), so what it received is what was
stored.
"""

import json
import sqlite3
import threading
import time
import uuid

import pytest

from tests.ingest.recorder import received
from tests.ingest.server import start_server, stop_server
from tests.ingest.wire import post

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

KEY_LIMITED = "/api/1/envelope/?sentry_key=" + "4" * 32  # 3 a minute
PROJECT_LIMITED = "/api/2/envelope/?sentry_key=" + "2" * 32  # project 2: 5 a minute
OPEN = "/api/1/envelope/?sentry_key=publickey123"


def envelope(count, item_type="event", with_header_id=False):
    """One envelope of `count` items of one type, each with an id of its own."""
    head = {"event_id": uuid.uuid4().hex} if with_header_id else {}
    lines = [json.dumps(head).encode()]
    for i in range(count):
        if item_type == "event":
            body = {"event_id": uuid.uuid4().hex, "message": f"flood {i}"}
        else:
            body = {"event_id": uuid.uuid4().hex, "contexts": {"feedback": {"message": f"{i}"}}}
        payload = json.dumps(body).encode()
        lines += [json.dumps({"type": item_type, "length": len(payload)}).encode(), payload]
    return b"\n".join(lines) + b"\n"


def fresh_window(margin=15.0):
    """Wait for the next one-minute window if this one ends within `margin` seconds (the limits
    are fixed windows: a window that ends mid-test would let another limit's worth through)."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.2)
    return int(time.time() // 60)


def stored(server, project_id, kind=None):
    return [
        r
        for r in received(server.dir)
        if r["project_id"] == project_id and (kind is None or r["kind"] == kind)
    ]


def assert_header(value, scope, categories="error"):
    seconds, cats, where = value.split(":")
    assert seconds.isdigit() and 1 <= int(seconds) <= 60, value
    assert (cats, where) == (categories, scope), value


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("ratelimit"))
    yield server
    stop_server(server)


def test_an_envelope_of_200_events_stores_only_the_key_limit(server):
    window = fresh_window()
    answer = post(server.port, KEY_LIMITED, envelope(200))
    # Part of it fits: the first 3 are stored, the SDK is told to hold back, the rest dropped.
    assert answer.status == 200, answer.body
    assert_header(answer.headers["x-sentry-rate-limits"], "key")
    assert len(stored(server, 1)) == 3
    # Nothing more fits in this window: refused whole, with the headers SDKs honour.
    again = post(server.port, KEY_LIMITED, envelope(200))
    assert again.status == 429, again.body
    assert again.headers["retry-after"].isdigit()
    assert_header(again.headers["x-sentry-rate-limits"], "key")
    assert again.headers["x-sentry-rate-limits"].startswith(again.headers["retry-after"] + ":")
    assert int(time.time() // 60) == window, "the window rolled over mid-test"
    assert len(stored(server, 1)) == 3
    # The dropped events are counted, per project, in the shared counters file.
    counters = sqlite3.connect(server.dir / "spool" / "ratelimits.sqlite3")
    try:
        (dropped,) = counters.execute(
            "SELECT n FROM counters WHERE scope = 'dropped:p1' AND window = ?", (window,)
        ).fetchone()
    finally:
        counters.close()
    assert dropped == 197 + 200
    # Other keys of the project are not charged for it.
    assert post(server.port, OPEN, envelope(2)).status == 200
    assert len(stored(server, 1)) == 5


def test_concurrent_envelopes_across_workers_never_store_past_the_project_limit(server):
    window = fresh_window()
    answers = []

    def send():
        answers.append(post(server.port, PROJECT_LIMITED, envelope(40)))

    threads = [threading.Thread(target=send) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(time.time() // 60) == window, "the window rolled over mid-test"
    statuses = sorted(a.status for a in answers)
    assert set(statuses) <= {200, 429}, statuses
    assert len(stored(server, 2)) == 5, statuses
    for answer in answers:
        assert_header(answer.headers["x-sentry-rate-limits"], "project")


def test_feedback_items_are_charged_like_events_installation_wide(tmp_path):
    server = start_server(tmp_path, INGEST_TEST_GLOBAL_LIMIT=4)
    try:
        window = fresh_window()
        answer = post(server.port, OPEN, envelope(10, "feedback"))
        assert answer.status == 200, answer.body
        assert_header(answer.headers["x-sentry-rate-limits"], "organization", "feedback")
        assert len(stored(server, 1, "feedback")) == 4
        # A mixed envelope once the budget is used up: refused whole, both categories named.
        mixed = envelope(3) + envelope(3, "feedback").split(b"\n", 1)[1]
        refused = post(server.port, OPEN, mixed)
        assert refused.status == 429
        assert_header(refused.headers["x-sentry-rate-limits"], "organization", "error;feedback")
        assert int(time.time() // 60) == window, "the window rolled over mid-test"
        assert len(stored(server, 1)) == 4
    finally:
        stop_server(server)
