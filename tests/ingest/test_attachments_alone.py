"""Attachments in an envelope without an event item, against the real Gunicorn server: handed on
as one item of kind "attachment" for the event the envelope header names (the digest attaches
them to it); without an event_id in the header they have nothing to join and are dropped."""

import json

import pytest

from tests.ingest.recorder import received
from tests.ingest.wire import post

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]
AUTH = {"X-Sentry-Auth": "Sentry sentry_key=publickey123, sentry_version=7"}


def attachments_only(header, *files):
    parts = [json.dumps(header).encode()]
    for name, data in files:
        item = {"type": "attachment", "length": len(data), "filename": name}
        parts += [json.dumps(item).encode(), data]
    return b"\n".join(parts) + b"\n"


def test_attachments_alone_are_handed_on_for_the_named_event(ingest_server):
    before = {r["spool_id"] for r in received(ingest_server.dir)}
    event_id = "7a" * 16
    body = attachments_only({"event_id": event_id}, ("a.log", b"one\n"), ("b.bin", b"\x00\x01"))
    answer = post(ingest_server.port, "/api/1/envelope/", body, AUTH)
    assert answer.status == 200, answer.body
    (got,) = [r for r in received(ingest_server.dir) if r["spool_id"] not in before]
    assert got["kind"] == "attachment" and got["event_id"] == event_id
    assert got["payload"] == b""
    assert [(a["filename"], a["data"]) for a in got["attachments"]] == [
        ("a.log", b"one\n"),
        ("b.bin", b"\x00\x01"),
    ]


def test_attachments_alone_without_an_event_id_are_dropped(ingest_server):
    before = {r["spool_id"] for r in received(ingest_server.dir)}
    answer = post(
        ingest_server.port, "/api/1/envelope/", attachments_only({}, ("c.txt", b"x")), AUTH
    )
    assert answer.status == 200, answer.body
    assert [r for r in received(ingest_server.dir) if r["spool_id"] not in before] == []
