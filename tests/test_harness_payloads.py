"""The benchmarks' mixed envelopes (harness/payloads.py, `python -m benchmarks e2e --with-health`):
the session and check-in items the real sentry-sdk made, replayed with fresh ids, are what ingest
reads and the digest counts: one session per envelope, errored, per user; each check-in stored."""

import json

import brotli
import pytest

from bugsink_ingest.envelope import Limits, parse_envelope
from bugsink_ingest.intake import events_from_envelope
from bugsink_issues.digest import digest_batch
from bugsink_issues.models import CheckIn, Event, Monitor, ReleaseHealthBucket
from harness.payloads import EnvelopeFactory, capture_templates
from tests.factories import make_project


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    return capture_templates(tmp_path_factory.mktemp("templates"))


LIMITS = Limits(header_line=10_000, event=10**6, attachment=10**6)


def items_of(prepared):
    return parse_envelope(iter([brotli.decompress(prepared.body)]), LIMITS)


def test_the_session_item_is_the_sdks_with_fresh_ids_and_right_lengths(templates):
    factory = EnvelopeFactory(templates, "a" * 32)
    first, second = (factory.make("small", i, session=True, check_in=True) for i in (1, 2))
    bodies = []
    for prepared in (first, second):
        envelope = items_of(prepared)
        assert [i.type for i in envelope.items] == ["event", "session", "check_in"]
        for item in envelope.items:  # the parser reads by length: a wrong one breaks the next
            assert item.headers["length"] == len(item.payload)
        bodies.append([json.loads(i.payload) for i in envelope.items])
    (_, s1, c1), (_, s2, c2) = bodies
    # What sentry-sdk sends for a session that saw the error and ended (application mode).
    assert s1["init"] is True and s1["status"] == "exited" and s1["errors"] == 1
    assert s1["attrs"] == {"release": "shop@2.4.1", "environment": "production"}
    assert s1["sid"] != s2["sid"] and s1["did"] != s2["did"]
    assert c1["monitor_slug"] == "bench-job-000" and c2["monitor_slug"] == "bench-job-001"
    assert c1["status"] == "ok"
    assert c1["check_in_id"] != c2["check_in_id"] and c1["event_id"] != c2["event_id"]
    # Without the options: the error envelope alone, as before.
    plain = items_of(factory.make("small", 3))
    assert [i.type for i in plain.items] == ["event"]


@pytest.mark.django_db
def test_the_digest_counts_every_session_and_check_in_of_a_mixed_run(templates):
    project = make_project("Bench")
    factory = EnvelopeFactory(templates, "a" * 32)
    spooled = []
    for i in range(6):
        envelope = items_of(factory.make("small", i, session=True, check_in=i % 3 == 0))
        spooled += events_from_envelope(envelope.headers, envelope.items, project.pk)
    digest_batch(spooled)
    assert Event.objects.filter(project_id=project.pk).count() == 6
    (bucket,) = ReleaseHealthBucket.objects.filter(project_id=project.pk, release="shop@2.4.1")
    assert (bucket.sessions, bucket.errored, bucket.crashed) == (6, 6, 0)
    assert bucket.users.count() == 6
    assert CheckIn.objects.filter(monitor__project_id=project.pk).count() == 2
    assert Monitor.objects.filter(project_id=project.pk).count() == 2  # bench-job-000 and -001
