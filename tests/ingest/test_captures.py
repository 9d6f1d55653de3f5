"""Every captured SDK request, replayed byte for byte against a real Gunicorn.

The /r429, /rl, /r413 and /r500 prefixes were the capture server's own test endpoints (they forced
those answers). Here they are ordinary path prefixes in front of the ingest URLs, so the right
answer is the normal one (200, and the event handed off): that proves mounting under a prefix.
Our own 429/413 answers are tested in test_limits.py.
"""

import json

import pytest

from tests.ingest.recorder import received
from tests.ingest.wire import captures, decoded, replay

KEPT = {"event", "feedback", "user_report", "check_in"}


def expected(name):
    """(event_id, kind, payload, attachments) the consumer must get from a capture, or None."""
    lines = decoded(name).split(b"\n")
    header = json.loads(lines[0])
    rest, pos, items = decoded(name)[len(lines[0]) + 1 :], 0, []
    while pos < len(rest):
        end = rest.index(b"\n", pos) if b"\n" in rest[pos:] else len(rest)
        item_header = json.loads(rest[pos:end])
        pos = end + 1
        if "length" in item_header:
            payload = rest[pos : pos + item_header["length"]]
            pos += item_header["length"] + 1
        else:
            end = rest.find(b"\n", pos)
            end = len(rest) if end < 0 else end
            payload, pos = rest[pos:end], end + 1
        items.append((item_header, payload))
        while pos < len(rest) and rest[pos : pos + 1] == b"\n":
            pos += 1
    kept = [(h, p) for h, p in items if h["type"] in KEPT]
    if not kept:
        return None
    h, payload = kept[0]
    event_id = header.get("event_id") if h["type"] == "event" else json.loads(payload)["event_id"]
    attachments = [(h["filename"], p) for h, p in items if h["type"] == "attachment"]
    return event_id.replace("-", ""), h["type"], payload, attachments


@pytest.mark.e2e
@pytest.mark.parametrize("name", captures())
def test_capture_replayed_byte_for_byte(ingest_server, name):
    before = {r["spool_id"] for r in received(ingest_server.dir)}
    answer = replay(ingest_server.port, name)
    assert answer.status == 200, answer.body
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "x-sentry-rate-limits" in answer.headers["access-control-expose-headers"]
    new = [r for r in received(ingest_server.dir) if r["spool_id"] not in before]
    want = expected(name)
    if want is None:
        # Sessions and client reports (this consumer did not ask for them: handoff's kinds=),
        # logs, transactions: accepted and dropped.
        assert new == []
        assert answer.json() in (
            {},
            {"id": json.loads(decoded(name).split(b"\n")[0]).get("event_id")},
        )
        return
    event_id, kind, payload, attachments = want
    assert answer.json() == {"id": event_id}
    assert len(new) == 1, new
    got = new[0]
    assert (got["event_id"], got["kind"], got["project_id"]) == (event_id, kind, 1)
    assert got["payload"] == payload
    assert [(a["filename"], a["data"]) for a in got["attachments"]] == attachments
