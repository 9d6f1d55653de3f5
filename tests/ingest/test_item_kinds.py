"""Items besides events: the never-kept types are answered with X-Sentry-Rate-Limits for their
categories (and only theirs); sessions and client reports reach a consumer that asks for them,
uncharged by the rate limits, and no other consumer."""

import json

import pytest
from django.test import Client, override_settings

from bugsink_ingest import spool
from bugsink_ingest.models import Project, ProjectKey
from bugsink_ingest.unkept import rate_limits_header

pytestmark = pytest.mark.django_db

KINDS = ("session", "sessions", "client_report")
handed = []


def consumer_of_everything(events):
    handed.extend(events)


consumer_of_everything.kinds = KINDS  # type: ignore[attr-defined]


def consumer_of_events(events):
    handed.extend(events)


def envelope(*items, event_id="ab" * 16):
    parts = [json.dumps({"event_id": event_id}).encode()]
    for item_type, payload in items:
        parts += [json.dumps({"type": item_type}).encode(), json.dumps(payload).encode()]
    return b"\n".join(parts) + b"\n"


EVENT = ("event", {"message": "boom"})
SESSION = ("session", {"sid": "s1", "init": True, "attrs": {"release": "a@1"}})
REPORT = (
    "client_report",
    {"discarded_events": [{"reason": "sample_rate", "category": "error", "quantity": 3}]},
)


@pytest.fixture
def post(tmp_path, settings):
    settings.BUGSINK_INGEST_SPOOL_DIR = tmp_path / "spool"
    settings.BUGSINK_INGEST_RATE_LIMIT_DB = tmp_path / "limits.sqlite3"
    key = ProjectKey.objects.create(project=Project.objects.create(name="p"))
    url = f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}"
    spool._spool_for.cache_clear()
    handed.clear()

    def run(body):
        return Client().post(url, body, content_type="application/x-sentry-envelope")

    run.key = key  # type: ignore[attr-defined]
    yield run
    spool._spool_for.cache_clear()


def spooled_kinds():
    """The kinds handed to the consumer since the last call (the tests' Tasks backend runs the
    drain at once)."""
    kinds = sorted(e.kind for e in handed)
    handed.clear()
    return kinds


def test_unkept_types_are_named_for_their_categories_only(post):
    body = envelope(
        EVENT,
        ("transaction", {"type": "transaction"}),
        ("profile", {}),
        ("replay_recording", {}),
        ("something_new", {}),
    )
    answer = post(body)
    assert answer.status_code == 200
    assert answer["X-Sentry-Rate-Limits"] == "3600:profile;replay;transaction:project:not_kept"
    assert "x-sentry-rate-limits" in answer["Access-Control-Expose-Headers"]
    # An envelope of errors only: no header, nothing limited.
    assert "X-Sentry-Rate-Limits" not in post(envelope(EVENT, event_id="cd" * 16))
    # Only unkept items: a 200 (nothing to store) with the header.
    spans = post(envelope(("span", {}), ("otel_log", {}), ("statsd", {})))
    assert spans.status_code == 200
    assert spans["X-Sentry-Rate-Limits"] == "3600:log_item;metric_bucket;span:project:not_kept"


def test_rate_limits_header_of_known_and_unknown_types():
    assert rate_limits_header(["event", "session", "check_in", "x"]) is None
    assert rate_limits_header(["replay_event", "replay_video"]) == "3600:replay:project:not_kept"


def test_health_items_reach_a_consumer_that_asks_and_are_not_charged(post, settings):
    settings.BUGSINK_INGEST_CONSUMER = "tests.ingest.test_item_kinds.consumer_of_everything"
    ProjectKey.objects.filter(pk=post.key.pk).update(rate_limit_per_minute=1)
    first = post(envelope(EVENT, SESSION, REPORT))
    assert first.status_code == 200
    assert json.loads(first.content) == {"id": "ab" * 16}  # the event's id, not a session's
    # The limit (1 a minute) is spent on the event: a second event is refused, the session and
    # the client report of the same envelope are kept.
    second = post(envelope(EVENT, SESSION, REPORT, event_id="ef" * 16))
    assert second.status_code == 200 and "error" in second["X-Sentry-Rate-Limits"]
    assert spooled_kinds() == ["client_report", "client_report", "event", "session", "session"]
    only_health = post(envelope(SESSION, ("sessions", {"aggregates": []})))
    assert only_health.status_code == 200
    assert spooled_kinds() == ["session", "sessions"]


def test_a_refused_event_gives_its_attachments_back_beside_a_kept_session(post, settings, tmp_path):
    settings.BUGSINK_INGEST_CONSUMER = "tests.ingest.test_item_kinds.consumer_of_everything"
    ProjectKey.objects.filter(pk=post.key.pk).update(rate_limit_per_minute=1)
    assert post(envelope(EVENT)).status_code == 200  # the minute's one event
    data = b"a log line\n" * 10
    attachment = json.dumps({"type": "attachment", "length": len(data), "filename": "log.txt"})
    body = envelope(EVENT, SESSION, event_id="ef" * 16) + attachment.encode() + b"\n" + data + b"\n"
    answer = post(body)
    assert answer.status_code == 200 and "error" in answer["X-Sentry-Rate-Limits"]
    assert spooled_kinds() == ["event", "session"]  # the second event refused, its session kept
    # The refused event's attachment was spooled as the envelope streamed in: its file is gone.
    assert [p for p in (tmp_path / "spool" / "attachments").rglob("*") if p.is_file()] == []


def test_a_broken_session_item_is_dropped_not_its_envelope(post, settings):
    settings.BUGSINK_INGEST_CONSUMER = "tests.ingest.test_item_kinds.consumer_of_everything"
    broken = envelope(EVENT) + b'{"type":"session"}\n[not json\n'
    assert post(broken).status_code == 200
    assert spooled_kinds() == ["event"]


@override_settings(BUGSINK_INGEST_CONSUMER="tests.ingest.test_item_kinds.consumer_of_events")
def test_health_items_are_dropped_for_a_consumer_that_does_not_ask(post):
    assert post(envelope(EVENT, SESSION, REPORT)).status_code == 200
    assert spooled_kinds() == ["event"]
