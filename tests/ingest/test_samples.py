"""Every real event payload in the samples is accepted through /store/ and as an envelope, and the
consumer receives its bytes unchanged."""

import json

import pytest

from harness.processes import ROOT
from tests.ingest.recorder import received
from tests.ingest.wire import post

SAMPLES = sorted((ROOT.parent / "shared" / "samples" / "sentry").glob("*.json"))
AUTH = {"X-Sentry-Auth": "Sentry sentry_key=publickey123, sentry_version=7, sentry_client=t/1"}


def _new(server, before):
    return [r for r in received(server.dir) if r["spool_id"] not in before]


@pytest.mark.e2e
def test_samples_exist():
    assert len(SAMPLES) >= 100


@pytest.mark.e2e
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_sample_via_store_and_envelope(ingest_server, sample):
    payload = sample.read_bytes()
    before = {r["spool_id"] for r in received(ingest_server.dir)}
    answer = post(ingest_server.port, "/api/1/store/", payload, AUTH)
    assert answer.status == 200, answer.body
    event_id = answer.json()["id"]
    assert len(event_id) == 32
    (got,) = _new(ingest_server, before)
    assert got["payload"] == payload and got["event_id"] == event_id

    before |= {got["spool_id"]}
    header = json.dumps({"event_id": "ab" * 16}).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    body = header + b"\n" + item + b"\n" + payload + b"\n"
    answer = post(ingest_server.port, "/api/1/envelope/", body, AUTH)
    assert answer.status == 200, answer.body
    assert answer.json() == {"id": "ab" * 16}  # the envelope's event_id wins
    (got,) = _new(ingest_server, before)
    assert got["payload"] == payload and got["event_id"] == "ab" * 16
