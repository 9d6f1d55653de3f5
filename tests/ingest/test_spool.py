"""The spools (segments and database), the drain task, the hand-off contract, checks, DSN, command."""

import os
import time
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from bugsink_ingest import handoff, spool
from bugsink_ingest.spool import Spool, SpooledAttachment, SpooledEvent, new_spool_id
from bugsink_ingest.spool.database import DatabaseSpool
from bugsink_ingest.spool.segments import SegmentSpool

COLLECTED: list = []


def collect(events):
    COLLECTED.extend(events)


def failing(events):
    raise RuntimeError("consumer down")


def make_event(n=0, attachments=()):
    return SpooledEvent(
        spool_id=new_spool_id(),
        project_id=1,
        event_id=f"{n:032x}",
        received_at=datetime.now(UTC),
        payload=b'{"message": "m\\n\\r"}',
        kind="event",
        attachments=attachments,
    )


def check_roundtrip(s):
    assert isinstance(s, Spool)  # the contract, every method of it
    attachment = SpooledAttachment.from_bytes(
        "a.bin", "application/octet-stream", "event.attachment", b"\0\n\r"
    )
    events = [make_event(i, (attachment,) if i == 0 else ()) for i in range(5)]
    for e in events:
        s.write(e)
    assert s.backlog_size() == 5
    first = s.claim(3)
    assert first == events[:3]  # oldest first, byte for byte, attachments' metadata included
    assert b"".join(first[0].attachments[0].chunks()) == b"\0\n\r"  # and their bytes
    assert s.claim(10) == events[3:]  # claimed ones are not handed out twice
    s.release([e.spool_id for e in events[3:]])
    s.ack([e.spool_id for e in first])
    assert s.backlog_size() == 2
    assert s.claim(10) == events[3:]
    s.ack([e.spool_id for e in events[3:]])
    assert s.backlog_size() == 0 and s.claim(10) == []
    # The wake-up marker: only the first asks for a drain until it is cleared.
    assert s.request_wakeup() is True and s.request_wakeup() is False
    s.clear_wakeup()
    assert s.request_wakeup() is True
    s.clear_wakeup()


def test_segment_spool_publishes_the_backlog_count_it_takes(tmp_path):
    s = SegmentSpool(tmp_path)
    for i in range(4):
        s.write(make_event(i))
    assert s.approximate_backlog() == 4  # nothing published yet: counted (and published)
    s.write(make_event(9))
    assert s.approximate_backlog() == 4  # the fresh count, not a new look at the segments
    assert len(s.claim(2)) == 2  # a claim counts: 3 waiting + 2 held
    s.write(make_event(10))
    assert s.approximate_backlog() == 5
    # A count older than COUNT_FRESH_SECONDS (no drain publishing), or dated ahead (the clock
    # was set back since), is taken afresh.
    waiting = 6
    for moved in (time.time() - 60, time.time() + 3600):
        os.utime(tmp_path / "backlog", (moved, moved))
        assert s.approximate_backlog() == waiting  # counted afresh, and published
        s.write(make_event(waiting))
        waiting += 1
        assert s.approximate_backlog() == waiting - 1  # that count, fresh again


@pytest.mark.django_db
def test_database_spool():
    check_roundtrip(DatabaseSpool("default"))


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["segments", "database"])
def test_names_json_carries_but_utf8_cannot_come_back_as_sent(which, tmp_path):
    # An item header is JSON: a filename may hold a lone surrogate's escape ("\\ud800"), which
    # no UTF-8 encoder takes; the spool's meta line must still carry it (and plain non-ASCII).
    s = SegmentSpool(tmp_path) if which == "segments" else DatabaseSpool("default")
    names = ["r\u00e9sum\u00e9 \u2603.txt", "\ud800broken\udfff.txt"]
    events = [
        make_event(i, (SpooledAttachment.from_bytes(name, "text/plain", "event.attachment", b"x"),))
        for i, name in enumerate(names)
    ]
    for e in events:
        s.write(e)
    got = s.claim(10)
    assert got == events
    assert [e.attachments[0].filename for e in got] == names
    s.ack([e.spool_id for e in got])


@pytest.mark.django_db
def test_database_spool_lease_expires():
    s = DatabaseSpool("default")
    s.write(make_event())
    with override_settings(BUGSINK_INGEST_SPOOL_CLAIM_SECONDS=-1):
        (first,) = s.claim(10)
        assert s.claim(10) == [first]  # the lease ran out at once: claimable again


@pytest.mark.django_db
def test_database_spool_sets_an_unreadable_row_aside():
    from bugsink_ingest.models import SpoolEntry

    s = DatabaseSpool("default")
    good = make_event(1)
    s.write(good)
    SpoolEntry.objects.create(spool_id="broken-1", blob=b'{"not": "a spooled event"}\n')
    s.write(make_event(2))
    got = s.claim(10)  # the broken row neither raises for every claim nor is handed out
    assert [e.event_id for e in got] == [good.event_id, make_event(2).event_id]
    assert s.quarantined_count() == 1
    assert "unreadable" in SpoolEntry.objects.get(spool_id="broken-1").error


@pytest.fixture
def segment_spool(tmp_path):
    with override_settings(BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool"):
        spool._spool_for.cache_clear()
        yield spool.get_spool()
    spool._spool_for.cache_clear()


def test_drain_hands_batches_to_the_consumer_and_then_removes_them(segment_spool):
    from bugsink_ingest.tasks import drain_spool

    events = [make_event(i) for i in range(7)]
    for e in events:
        segment_spool.write(e)
    COLLECTED.clear()
    with override_settings(
        BUGSINK_INGEST_CONSUMER="tests.ingest.test_spool.failing", BUGSINK_INGEST_SPOOL_BATCH_SIZE=3
    ):
        with pytest.raises(RuntimeError):
            drain_spool.call()
        assert spool.get_spool().backlog_size() == 7  # nothing lost when the consumer fails
    with override_settings(
        BUGSINK_INGEST_CONSUMER="tests.ingest.test_spool.collect", BUGSINK_INGEST_SPOOL_BATCH_SIZE=3
    ):
        assert drain_spool.call() == 7
    assert COLLECTED == events and spool.get_spool().backlog_size() == 0


def test_consumer_without_attachments(segment_spool):
    from bugsink_ingest.tasks import drain_spool

    attachment = SpooledAttachment.from_bytes("a", "text/plain", "event.attachment", b"x")
    segment_spool.write(make_event(1, (attachment,)))
    COLLECTED.clear()
    saved = handoff._registered
    try:
        handoff.register_consumer(collect, wants_attachments=False)
        with override_settings(BUGSINK_INGEST_CONSUMER=None):
            assert not handoff.wants_attachments()
            drain_spool.call()
    finally:
        handoff._registered = saved
    assert [e.attachments for e in COLLECTED] == [()]


def test_no_consumer_keeps_events_and_a_check_warns(segment_spool):
    from bugsink_ingest.checks import check_ingest_settings
    from bugsink_ingest.tasks import drain_spool

    segment_spool.write(make_event())
    saved = handoff._registered
    try:
        handoff._registered = None
        with override_settings(BUGSINK_INGEST_CONSUMER=None):
            assert drain_spool.call() == 0
            assert spool.get_spool().backlog_size() == 1
            assert "bugsink_ingest.W001" in [c.id for c in check_ingest_settings()]
    finally:
        handoff._registered = saved


def test_checks_catch_misconfiguration():
    from bugsink_ingest.checks import check_ingest_settings

    with override_settings(
        BUGSINK_INGEST_SPOOL="no.such.Spool",
        BUGSINK_INGEST_CONSUMER="no.such.consumer",
        BUGSINK_INGEST_MAX_EVENT_SIZE=0,
    ):
        ids = {c.id for c in check_ingest_settings()}
    assert {"bugsink_ingest.E001", "bugsink_ingest.E003", "bugsink_ingest.E004"} <= ids
    with override_settings(
        BUGSINK_INGEST_SPOOL="bugsink_ingest.spool.database.DatabaseSpool",
        BUGSINK_INGEST_SPOOL_DATABASE="nope",
    ):
        assert "bugsink_ingest.E002" in {c.id for c in check_ingest_settings()}
    assert [c for c in check_ingest_settings() if c.level >= 40] == []


@pytest.mark.django_db
def test_create_project_prints_the_dsn_last():
    from bugsink_ingest.models import ProjectKey

    out = StringIO()
    with override_settings(BUGSINK_INGEST_BASE_URL="https://errors.example.com/tracker"):
        call_command("bugsink_create_project", "My App", stdout=out)
    key = ProjectKey.objects.get(project__name="My App")
    last = out.getvalue().strip().splitlines()[-1]
    assert last == f"https://{key.public_key}@errors.example.com/tracker/{key.project_id}"
    assert len(key.public_key) == 32 and int(key.public_key, 16) >= 0


def test_the_segment_spool_needs_a_directory_of_the_sites_own():
    from django.core.exceptions import ImproperlyConfigured

    from bugsink_ingest.checks import check_ingest_settings

    with override_settings(BUGSINK_INGEST_SPOOL_DIR=None):
        (error,) = [c for c in check_ingest_settings() if c.id == "bugsink_ingest.E005"]
        assert "BUGSINK_INGEST_SPOOL_DIR" in error.msg and "temp dir" in error.hint
        with pytest.raises(ImproperlyConfigured, match="BUGSINK_INGEST_SPOOL_DIR"):
            SegmentSpool()  # a server that runs no checks (Gunicorn) refuses too: a 503
        with override_settings(BUGSINK_INGEST_SPOOL="bugsink_ingest.spool.database.DatabaseSpool"):
            assert "bugsink_ingest.E005" not in [c.id for c in check_ingest_settings()]


def test_a_spool_class_that_lacks_part_of_the_contract_is_refused():
    from bugsink_ingest.checks import check_ingest_settings

    with override_settings(BUGSINK_INGEST_SPOOL="tests.ingest.test_spool.HalfSpool"):
        (error,) = [c for c in check_ingest_settings() if c.id == "bugsink_ingest.E001"]
    assert "request_sweep" in error.msg and "write," not in error.msg


class HalfSpool:
    def write(self, event): ...


def test_rate_limit_counters_follow_the_spool_or_stay_private_to_the_site(tmp_path):
    from bugsink_ingest.ratelimit import db_path

    with override_settings(BUGSINK_INGEST_SPOOL_DIR=tmp_path):
        assert db_path() == tmp_path / "ratelimits.sqlite3"
    with override_settings(BUGSINK_INGEST_SPOOL_DIR=None, SECRET_KEY="site one"):
        one = db_path()
    with override_settings(BUGSINK_INGEST_SPOOL_DIR=None, SECRET_KEY="site two"):
        two = db_path()
    assert one != two and one.parent == two.parent
    with override_settings(BUGSINK_INGEST_RATE_LIMIT_DB=tmp_path / "r.sqlite3"):
        assert db_path() == tmp_path / "r.sqlite3"
