"""The drain wake-up marker under clock steps: a marker written while the clock read hours ahead
must not hold back every later drain for as long as the step (both spools, real file and rows)."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bugsink_ingest.spool.database import DatabaseSpool
from bugsink_ingest.spool.markers import WAKE_STALE_SECONDS
from bugsink_ingest.spool.segments import SegmentSpool
from harness.faults import ServerClock, libfaketime_library
from harness.processes import ROOT


def _set_marker_mtime(spool, offset_seconds):
    moved = time.time() + offset_seconds
    os.utime(spool.wake.path, (moved, moved))


@pytest.mark.parametrize(
    ("offset", "stale"),
    [
        (2 * 3600, True),  # written before the clock went back 2 h
        (WAKE_STALE_SECONDS + 5, True),
        (WAKE_STALE_SECONDS - 5, False),  # a small step (or NTP slew): still pending
        (-(WAKE_STALE_SECONDS - 5), False),
        (-(WAKE_STALE_SECONDS + 5), True),  # old: its drain was lost
    ],
)
def test_segment_spool_marker_staleness_both_ways(tmp_path, offset, stale):
    s = SegmentSpool(tmp_path)
    assert s.request_wakeup() is True
    _set_marker_mtime(s, offset)
    assert s.request_wakeup() is stale
    # A stale marker is renewed at the current time: the next caller sees a pending drain.
    assert s.request_wakeup() is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "stale"),
    [
        (2 * 3600, True),
        (WAKE_STALE_SECONDS + 5, True),
        (WAKE_STALE_SECONDS - 5, False),
        (-(WAKE_STALE_SECONDS - 5), False),
        (-(WAKE_STALE_SECONDS + 5), True),
    ],
)
def test_database_spool_marker_staleness_both_ways(offset, stale):
    from bugsink_ingest.models import SpoolWakeup

    s = DatabaseSpool("default")
    assert s.request_wakeup() is True
    moved = timezone.now() + timedelta(seconds=offset)
    assert SpoolWakeup.objects.filter(id=1).update(created_at=moved) == 1
    assert s.request_wakeup() is stale
    assert s.request_wakeup() is False
    s.clear_wakeup()


def test_segment_spool_stale_marker_cleared_by_a_drain_meanwhile(tmp_path):
    """A drain can clear a stale marker between a request's look and its renewal (every request
    renews while the clock is off by more than the staleness): that request enqueues, never raises."""
    s = SegmentSpool(tmp_path)
    marker = Path(s.wake.path)
    stop = time.monotonic() + 1.5
    errors = []

    def drain_side():
        while time.monotonic() < stop:
            marker.touch()
            os.utime(marker, (0, 0))  # stale
            s.clear_wakeup()

    drainer = threading.Thread(target=drain_side)
    drainer.start()
    calls = 0
    while time.monotonic() < stop:
        try:
            s.request_wakeup()
        except OSError as e:
            errors.append(e)
        calls += 1
    drainer.join()
    assert calls > 1000 and errors == [], (calls, errors[:3])


WAKE_TWICE = (
    "import sys, django; django.setup(); from bugsink_ingest.spool.segments import SegmentSpool; "
    "from tests.ingest.test_spool import make_event; "
    "s = SegmentSpool(sys.argv[1]); print(s.request_wakeup(), s.request_wakeup()); "
    "s.backlog_size(); s.write(make_event()); print(s.approximate_backlog())"
)


@pytest.mark.skipif(
    libfaketime_library() is None, reason="libfaketime missing (pip install libfaketime)"
)
def test_segment_spool_dates_are_the_process_clocks(tmp_path):
    """A process whose clock differs from the file system's (libfaketime here; a network mount's
    server elsewhere) sees its own fresh marker as fresh (one drain enqueued, not one per event),
    and the backlog count just published as fresh (not counted again each second)."""
    clock = ServerClock(tmp_path)
    clock.set_offset("+2h")
    env = {**os.environ, **clock.env(), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", WAKE_TWICE, str(tmp_path / "spool")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert out == ["True", "False", "0"]  # 0: the published count, not a recount
    assert os.stat(tmp_path / "spool" / "wake").st_mtime > time.time() + 3600  # that clock's date
