"""The digest against a real database: every sample, idempotency, broken payloads, feedback."""

import json

import pytest

from bugsink_issues.digest.attachments import load_attachment
from bugsink_issues.digest.storage import load_payload
from bugsink_issues.models import (
    Event,
    EventAttachment,
    Grouping,
    Issue,
    IssueHistory,
    IssueTagValue,
    ProjectSettings,
    Release,
    UserFeedback,
)
from tests.factories import (
    SpooledAttachment,
    SpooledEvent,
    capture_payload,
    python_exception,
    sample_paths,
    spooled,
)

pytestmark = pytest.mark.django_db

DEEP = ["deep"]
for _ in range(30):
    DEEP = [DEEP]


def snapshot():
    return (
        list(Issue.objects.order_by("pk").values()),
        list(Event.objects.order_by("pk").values_list("pk", "event_id", "issue_id")),
        list(IssueTagValue.objects.order_by("pk").values_list("pk", "count")),
        list(IssueHistory.objects.order_by("pk").values_list("pk", "kind")),
        list(ProjectSettings.objects.values_list("stored_event_count", flat=True)),
    )


def test_every_sample_is_digested_and_stored_compressed(project, digest):
    events = [spooled(project, path.read_bytes()) for path in sample_paths()]
    digest(events)
    assert Event.objects.filter(project=project).count() == len(events) == 161
    raw_total = sum(len(e.payload) for e in events)
    stored_total = sum(len(bytes(p)) for p in Event.objects.values_list("payload", flat=True))
    assert stored_total <= 0.4 * raw_total
    assert Issue.objects.filter(project=project).count() == Grouping.objects.count()
    for event in Event.objects.all()[:20]:
        data = load_payload(event)
        assert data["event_id"] == event.event_id
        assert event.title
    assert sum(Issue.objects.values_list("event_count", flat=True)) == 161
    assert ProjectSettings.objects.get(project=project).stored_event_count == 161


def test_redelivered_batch_changes_nothing(project, digest):
    events = [spooled(project, python_exception(value=f"v{i}")) for i in range(5)]
    events.append(events[0])  # a duplicate inside the batch, too
    digest(events)
    before = snapshot()
    digest(events)
    digest(events[2:4])
    assert snapshot() == before
    issue = Issue.objects.get()
    assert issue.event_count == issue.stored_event_count == 5


def test_counts_titles_and_sequence(project, digest):
    digest([spooled(project, python_exception(value=f"v{i}", release="app@1.0")) for i in range(3)])
    issue = Issue.objects.get()
    assert issue.title == "ValueError: v2"
    assert issue.culprit == "app.views in index"
    assert issue.event_count == 3
    assert list(
        issue.events.order_by("issue_sequence").values_list("issue_sequence", flat=True)
    ) == [
        1,
        2,
        3,
    ]
    assert issue.first_release == issue.last_release == "app@1.0"
    assert Release.objects.get(project=project).version == "app@1.0"
    assert list(issue.history.values_list("kind", flat=True)) == ["created"]
    assert issue.events.get(issue_sequence=1).is_pinned
    assert not issue.events.get(issue_sequence=2).is_pinned


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'"a string"',
        json.dumps({"exception": "boom", "tags": 5, "timestamp": "yesterday"}).encode(),
        json.dumps(
            {"exception": {"values": [None, 3, {"type": None, "stacktrace": {"frames": [None]}}]}}
        ).encode(),
        json.dumps(
            {"message": {"message": "x %s", "params": ["y"]}, "level": 40, "user": 7}
        ).encode(),
        json.dumps({"logentry": "text", "request": {"headers": [["A", 1]], "url": 3}}).encode(),
        json.dumps({"message": "deep", "extra": {"a": DEEP, "pad": "p" * 20_000}}).encode(),
        json.dumps({"message": "long", "extra": {"s": "x" * 100_000}, "n": 10**30}).encode(),
        json.dumps({"timestamp": 1e20, "breadcrumbs": [{"message": "b"}] * 500}).encode(),
        json.dumps(
            {
                "exception": {
                    "values": [{"type": "E", "stacktrace": {"frames": [{"function": "f"}] * 2000}}]
                }
            }
        ).encode(),
        b'{"message": "nul \\u0000 and lone \\ud800 surrogate", "tags": {"k\\u0000": "v\\udfff"}}',
    ],
    ids=range(13),
)
def test_broken_payloads_are_stored_and_flagged(project, digest, payload):
    event = spooled(project, payload)
    digest([event])
    stored = Event.objects.get(event_id=event.event_id)
    assert stored.title
    data = load_payload(stored)
    assert data["event_id"] == event.event_id
    assert stored.problems, "what had to be fixed is recorded"
    assert len(bytes(stored.payload)) < 200_000


def test_unparseable_payload_is_kept_as_text(project, digest):
    event = spooled(project, b"{not json")
    digest([event])
    stored = Event.objects.get()
    assert stored.title == "<unparseable event payload>"
    assert load_payload(stored)["_unparseable"] == "{not json"
    assert "not valid JSON" in stored.problems[0]["problem"]


def test_json_nested_beyond_the_parsers_does_not_block_the_batch(project, digest):
    deep = b'{"event_id": "ab", "extra": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    poison, good = spooled(project, deep), spooled(project, python_exception("ValueError", "x"))
    digest([poison, good])
    assert Event.objects.count() == 2, "the event after the deep one is digested too"
    stored = Event.objects.get(event_id=poison.event_id)
    assert "nests too deeply" in stored.problems[0]["problem"]


def test_level_names_and_numbers(project, digest):
    digest(
        [
            spooled(project, {"message": "a", "level": "critical"}),
            spooled(project, {"message": "b", "level": 30}),
            spooled(project, {"message": "c", "level": "log"}),
        ]
    )
    assert dict(Event.objects.values_list("title", "level")) == {
        "a": "fatal",
        "b": "warning",
        "c": "info",
    }


def test_tags_are_derived_and_counted_per_issue(project, digest):
    payload = python_exception(
        release="app@2.0",
        environment="prod",
        server_name="web-1",
        tags={"customer": "acme"},
        user={"id": 42},
        request={
            "url": "https://example.com/orders/1?x=2",
            "headers": {"User-Agent": "Mozilla/5.0 (X11) Chrome/120.0 Safari/537.36"},
        },
        contexts={
            "os": {"name": "Linux", "version": "6.1"},
            "runtime": {"name": "CPython", "version": "3.11"},
        },
    )
    digest([spooled(project, payload) for _ in range(3)])
    counts = {
        (t.key, t.tag_value.value): t.count
        for t in IssueTagValue.objects.select_related("tag_value")
    }
    assert counts[("release", "app@2.0")] == 3
    assert counts[("environment", "prod")] == 3
    assert counts[("server", "web-1")] == 3
    assert counts[("customer", "acme")] == 3
    assert counts[("user", "42")] == 3
    assert counts[("browser", "Chrome 120")] == 3
    assert counts[("os", "Linux 6.1")] == 3
    assert counts[("runtime", "CPython 3.11")] == 3
    assert counts[("url", "https://example.com/orders/1")] == 3
    assert counts[("handled", "no")] == 3
    assert counts[("mechanism", "django")] == 3
    assert counts[("level", "error")] == 3


def test_feedback_links_to_its_event_either_order(project, digest):
    feedback = capture_payload("036")
    target = feedback["contexts"]["feedback"]["associated_event_id"]
    digest([spooled(project, feedback, event_id=feedback["event_id"], kind="feedback")])
    row = UserFeedback.objects.get()
    assert (row.name, row.email, row.message) == ("Bob", "b@example.com", "it broke")
    assert row.event is None
    digest([spooled(project, python_exception(), event_id=target)])
    row.refresh_from_db()
    assert row.event.event_id == target and row.issue == row.event.issue
    # An old-style user report for a stored event links right away; redelivery adds nothing.
    report = spooled(
        project,
        {"event_id": target, "name": "Ann", "email": "a@x.io", "comments": "again"},
        kind="user_report",
    )
    digest([report])
    digest([report])
    assert UserFeedback.objects.get(name="Ann").issue == row.issue
    assert UserFeedback.objects.count() == 2


def test_attachments_are_stored(project, digest):
    data = b"line 1\r\nline 2\n" * 100
    item = SpooledAttachment.from_bytes("a.txt", "text/plain", "event.attachment", data)
    digest([spooled(project, python_exception(), attachments=(item,))])
    stored = EventAttachment.objects.get()
    assert stored.filename == "a.txt" and stored.size == len(data)
    assert load_attachment(stored) == data


def test_digest_batch_is_the_registered_consumer():
    from bugsink_ingest.handoff import get_consumer
    from bugsink_issues.digest import digest_batch

    consumer = get_consumer()
    assert consumer.func is digest_batch and consumer.wants_attachments


def test_unknown_project_is_skipped_with_a_log(db, digest, caplog):
    digest([spooled(987654, python_exception())])
    assert Event.objects.count() == 0
    assert "no longer exists" in caplog.text


def test_spooled_event_shape_matches_the_contract():
    fields = set(SpooledEvent.__dataclass_fields__)
    assert {
        "spool_id",
        "project_id",
        "event_id",
        "received_at",
        "payload",
        "kind",
        "attachments",
    } <= fields


def test_tag_counts_of_more_rows_than_one_statement_takes(project, digest):
    from bugsink_issues.digest.tags import ROWS_PER_STATEMENT
    from bugsink_issues.models import IssueTagValue

    def batch():
        return [
            spooled(
                project, python_exception(f"Many{i}Error", tags={f"t{n}": "x" for n in range(10)})
            )
            for i in range(60)
        ]

    digest(batch())
    rows = IssueTagValue.objects.filter(issue__project=project)
    assert rows.count() > ROWS_PER_STATEMENT  # spread over several statements
    assert set(rows.values_list("count", flat=True)) == {1}
    digest(batch())  # the same issues and tags again: every row counted up once
    assert set(rows.values_list("count", flat=True)) == {2}
    assert rows.filter(key="t3").count() == 60
