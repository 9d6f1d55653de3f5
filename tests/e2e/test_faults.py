"""Faults under load: every acknowledged event is digested exactly once, whatever dies."""

import os
import signal
import uuid
from importlib.util import find_spec

import pytest

from harness.processes import wait_for
from tests.e2e.load import EventStream
from tests.e2e.ui import reader_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


@pytest.fixture(autouse=True)
def needs_the_whole_chain():
    if find_spec("bugsink_ingest.spool") is None or find_spec("bugsink_issues.digest") is None:
        pytest.skip("the ingest spool or the digest is not built yet")


def assert_digested_exactly_once(site, marker, acked, refused=(), timeout=60.0):
    """Every acknowledged event is in the marker's issue, and the issue counted each event once.

    A refused request may still have been spooled (the answer lost as the server stopped): such an
    event may be there too, and then counts once like the others.
    """
    ui = reader_for(site)
    found = ui.wait_for_events({marker: set(acked)}, timeout=timeout)[marker]
    refused_ids = {event_id for event_id, _ in refused}
    also_stored = refused_ids - ui.missing_events(found, refused_ids)
    (issue,) = [i for i in ui.issues() if marker in i.title]
    assert issue.event_count == len(set(acked)) + len(also_stored)


# A batch claimed by the killed foreman goes back after this (seconds), found by the sweep.
FAST_RECLAIM = {"BUGSINK_SPOOL_CLAIM_SECONDS": "3", "BUGSINK_SPOOL_SWEEP_SECONDS": "1"}


def test_kill_9_of_the_foreman_while_events_stream_in(make_deployment):
    site = make_deployment(env=FAST_RECLAIM).start(wait_ready=True)
    marker = uuid.uuid4().hex[:12]
    stream = EventStream(site.demo_dsn(), marker, total=400).start()
    stream.wait_acked(100)
    old = site.pids()["worker"]
    os.kill(old, signal.SIGKILL)
    # The supervisor starts it again; claimed batches run again, the digest skips known events.
    wait_for(
        lambda: site.pids().get("worker") not in (None, old),
        timeout=20,
        what="a new foreman",
    )
    stream.join()
    assert len(stream.acked) >= 300, stream.refused[:5]
    assert_digested_exactly_once(site, marker, stream.acked, stream.refused)


def test_sigterm_of_the_whole_deployment_mid_load(make_deployment):
    site = make_deployment(env=FAST_RECLAIM).start(wait_ready=True)
    marker = uuid.uuid4().hex[:12]
    stream = EventStream(site.demo_dsn(), marker, total=2000).start()
    stream.wait_acked(150)
    assert site.stop(signal.SIGTERM) == 0
    stream.stop()
    acked_before, refused_before = list(stream.acked), list(stream.refused)
    # Same data dir and port: what was acknowledged before the stop is digested after the start.
    site.start(wait_ready=True)
    after = EventStream(site.demo_dsn(), marker, total=50).start()
    after.join()
    assert_digested_exactly_once(
        site, marker, acked_before + after.acked, refused_before + after.refused
    )
