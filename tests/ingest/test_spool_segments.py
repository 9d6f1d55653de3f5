"""SegmentSpool: appends to per-process segments, flock claims, torn tails, retirement, quarantine."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import zlib

from bugsink_ingest.spool.segments import SegmentSpool, framing, writer
from harness.processes import ROOT
from tests.ingest.test_spool import check_roundtrip, make_event


def segment_files(spool):
    return sorted(p.name for p in spool.segments.iterdir())


def spooled(spool, count):
    events = [make_event(i) for i in range(count)]
    for e in events:
        spool.write(e)
    return events


def test_roundtrip(tmp_path):
    check_roundtrip(SegmentSpool(tmp_path))
    # Everything acknowledged, but the writer (this process) still holds its segment open.
    assert [n for n in segment_files(SegmentSpool(tmp_path)) if n.endswith(".data")]


def test_a_sealed_and_finished_segment_is_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "SEGMENT_BYTES", 1)  # a new segment for every event
    s = SegmentSpool(tmp_path)
    events = spooled(s, 3)
    # Three written and sealed, and the (empty) next one the last write started.
    assert len([n for n in segment_files(s) if n.endswith(".data")]) == 4
    got = s.claim(10)
    assert got == events
    s.ack([e.spool_id for e in got])
    assert s.claim(10) == []  # the two sealed segments go; the open one stays
    assert len([n for n in segment_files(s) if n.endswith(".data")]) == 1
    s.writer.close()
    assert s.claim(10) == [] and segment_files(s) == []
    assert s.backlog_size() == 0


def test_two_drains_never_get_the_same_event(tmp_path):
    writer, a, b = SegmentSpool(tmp_path), SegmentSpool(tmp_path), SegmentSpool(tmp_path)
    events = spooled(writer, 5)
    first = a.claim(10)
    assert first == events
    assert b.claim(10) == []  # a holds the segment's lock
    a.release([e.spool_id for e in first[2:]])
    a.ack([e.spool_id for e in first[:2]])
    assert b.claim(10) == events[2:]  # released ones come back, acknowledged ones never


def test_an_acknowledgement_cut_short_is_dropped(tmp_path):
    s = SegmentSpool(tmp_path)
    events = spooled(s, 3)
    first = s.claim(1)
    s.ack([first[0].spool_id])
    (acks,) = [p for p in s.segments.iterdir() if p.name.endswith(".acks")]
    with open(acks, "ab") as f:
        f.write(b"\x01\x02\x03")  # a drain killed in the middle of appending
    rest = SegmentSpool(tmp_path).claim(10)
    assert rest == events[1:]
    assert acks.stat().st_size == 8


def test_newest_first_and_partial_settling(tmp_path):
    s = SegmentSpool(tmp_path)
    events = spooled(s, 4)
    newest = s.claim(1, newest=True)
    assert newest == events[-1:]
    s.ack([newest[0].spool_id])
    rest = s.claim(10)
    assert rest == events[:3]
    s.ack([rest[1].spool_id])
    s.release([rest[0].spool_id, rest[2].spool_id])
    assert s.claim(10) == [events[0], events[2]]


def test_a_torn_tail_is_never_handed_out(tmp_path):
    s = SegmentSpool(tmp_path)
    good = make_event(1)
    s.write(good)
    s.write(make_event(2))
    (data,) = [p for p in s.segments.iterdir() if p.name.endswith(".data")]
    raw = data.read_bytes()
    os.truncate(data, len(raw) - 7)  # the second record loses its last bytes
    got = s.claim(10)
    assert got == [good]
    s.ack([good.spool_id])
    s.writer.close()  # the writer is gone: the torn record can never complete
    assert s.claim(10) == [] and segment_files(s) == []


def test_an_unreadable_record_is_set_aside_not_retried(tmp_path):
    s = SegmentSpool(tmp_path)
    s.write(make_event(1))
    (data,) = [p for p in s.segments.iterdir() if p.name.endswith(".data")]
    # A record whose checksum is right but whose body records.load() cannot read (a bug).
    body = b"someid\n" + b'{"not": "a spool record"}\n'
    with open(data, "ab") as f:
        f.write(framing.HEADER.pack(framing.MAGIC, len(body), zlib.crc32(body)))
        f.write(body)
    got = s.claim(10)
    assert len(got) == 1
    s.ack([got[0].spool_id])
    assert s.quarantined_count() == 1
    assert s.claim(10) == []


def test_a_damaged_record_is_set_aside_and_the_rest_delivered(tmp_path):
    s = SegmentSpool(tmp_path)
    events = spooled(s, 3)
    (data,) = [p for p in s.segments.iterdir() if p.name.endswith(".data")]
    raw = bytearray(data.read_bytes())
    raw[framing.HEADER.size + 30] ^= 0xFF  # a bit flip in the first record's body
    data.write_bytes(bytes(raw))
    got = s.claim(10)
    assert got == events[1:]
    assert s.quarantined_count() == 1
    assert "checksum" in next(s.quarantine_area.path.glob("*.error")).read_text()


def test_quarantine_and_restore(tmp_path):
    s = SegmentSpool(tmp_path)
    events = spooled(s, 3)
    got = s.claim(10)
    s.quarantine(got[1].spool_id, "RuntimeError: boom")
    s.ack([got[0].spool_id, got[2].spool_id])
    assert s.claim(10) == [] and s.quarantined_count() == 1
    assert "boom" in (s.quarantine_area.path / f"{got[1].spool_id}.error").read_text()
    assert s.backlog_size() == 0
    assert s.restore_quarantined() == 1
    assert s.quarantined_count() == 0 and s.backlog_size() == 1
    assert list(s.quarantine_area.path.iterdir()) == []
    # Back in a segment (this process's), the same event under the same spool id.
    assert SegmentSpool(tmp_path).claim(10) == [events[1]]


def test_a_quarantined_unreadable_record_restored_is_set_aside_again(tmp_path):
    s = SegmentSpool(tmp_path)
    events = spooled(s, 2)
    (data,) = [p for p in s.segments.iterdir() if p.name.endswith(".data")]
    raw = bytearray(data.read_bytes())
    # The first record damaged in its description (the JSON line after the spool id).
    raw[framing.HEADER.size + len(events[0].spool_id) + 3] ^= 0xFF
    data.write_bytes(bytes(raw))
    assert s.claim(10) == events[1:]
    s.ack([events[1].spool_id])
    assert s.restore_quarantined() == 1  # restored with a good checksum, but still not an event
    assert s.claim(10) == [] and s.quarantined_count() == 1


def test_backlog_is_published_by_claims(tmp_path):
    s = SegmentSpool(tmp_path)
    for i in range(5):
        s.write(make_event(i))
    assert s.approximate_backlog() == 5
    got = s.claim(2)
    s.ack([e.spool_id for e in got])
    s.claim(0)
    assert s.approximate_backlog() == 3


CLAIMER = textwrap.dedent(
    """
    import sys, time
    import django
    django.setup()
    from bugsink_ingest.spool.segments import SegmentSpool
    s = SegmentSpool(sys.argv[1])
    print(len(s.claim(100)), flush=True)
    time.sleep(120)
    """
)


def run_script(script, directory, **popen):
    """Another process working on the spool in `directory` (started; use as a context manager)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", script, str(directory)], env=env, cwd=ROOT, **popen
    )


def test_a_killed_drains_claim_comes_back_at_once(tmp_path):
    s = SegmentSpool(tmp_path)
    events = spooled(s, 4)
    with run_script(CLAIMER, tmp_path, stdout=subprocess.PIPE) as proc:
        try:
            assert proc.stdout.readline().strip() == b"4"
            assert s.claim(10) == []  # held by the other process
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert s.claim(10) == events  # no timer: the kernel dropped the dead drain's lock


WRITER = textwrap.dedent(
    """
    import sys, threading
    import django
    django.setup()
    from datetime import UTC, datetime
    from bugsink_ingest.spool import SpooledEvent, new_spool_id
    from bugsink_ingest.spool.segments import SegmentSpool, writer
    writer.SEGMENT_BYTES = 4096  # rotate often
    s = SegmentSpool(sys.argv[1])
    tag = sys.argv[2]
    def work(t):
        for i in range(200):
            s.write(SpooledEvent(spool_id=new_spool_id(), project_id=1, event_id=f"{t}{i}".zfill(32),
                received_at=datetime.now(UTC), payload=b'{"w": "%s"}' % tag.encode()))
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    """
)


def test_processes_and_threads_writing_while_two_drains_read(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), tag], env=env, cwd=ROOT)
        for tag in ("a", "b")
    ]
    drains = [SegmentSpool(tmp_path), SegmentSpool(tmp_path)]
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        writing = any(w.poll() is None for w in writers)
        got_any = False
        for d in drains:
            batch = d.claim(37)
            got_any = got_any or bool(batch)
            seen.extend(batch)
            d.ack([e.spool_id for e in batch])
        if not writing and not got_any:
            break
    assert all(w.wait(timeout=10) == 0 for w in writers)
    ids = [e.spool_id for e in seen]
    assert len(ids) == len(set(ids)) == 2 * 4 * 200  # every event once
    assert {e.payload for e in seen} == {b'{"w": "a"}', b'{"w": "b"}'}
    # Both writers have exited: every segment is sealed, finished, and gets deleted.
    assert drains[0].claim(10) == [] and segment_files(drains[0]) == []


FILLER = textwrap.dedent(
    """
    import resource, signal, sys
    import django
    django.setup()
    from tests.ingest.test_spool import make_event
    from bugsink_ingest.spool.segments import SegmentSpool
    # A real short write and EFBIG from the kernel, as when a disk fills mid-record.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
    s = SegmentSpool(sys.argv[1])
    written = []
    for i in range(100):
        try:
            s.write(make_event(i))
            written.append(i)
        except OSError:
            break
    s.write(make_event(99))  # goes to a new segment
    written.append(99)
    print(" ".join(map(str, written)), flush=True)
    """
)


def test_a_failed_write_seals_the_segment_and_loses_nothing_acknowledged(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", FILLER, str(tmp_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.split()
    written = [int(n) for n in out]
    assert 1 <= len(written) < 100 and written[-1] == 99
    s = SegmentSpool(tmp_path)
    got = s.claim(200)
    assert [e.event_id for e in got] == [make_event(i).event_id for i in written]
    s.ack([e.spool_id for e in got])
    assert s.claim(10) == [] and segment_files(s) == []  # the torn tail went with its segment


ACK_FAILS = textwrap.dedent(
    """
    import resource, signal, sys
    import django
    django.setup()
    from bugsink_ingest.spool.segments import SegmentSpool
    s = SegmentSpool(sys.argv[1])
    got = s.claim(10)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # no file may grow: the disk is full
    try:
        s.ack([e.spool_id for e in got])
    except OSError as e:
        print(len(got), e.errno, flush=True)
    sys.stdin.read()  # stays alive, as a web process would
    """
)


def test_an_ack_that_cannot_be_written_lets_the_segment_go(tmp_path):
    events = spooled(SegmentSpool(tmp_path), 3)
    with run_script(
        ACK_FAILS, tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as drain:
        try:
            claimed, errno = drain.stdout.readline().split()
            assert int(claimed) == 3 and int(errno) == 27  # EFBIG
            # Not acknowledged, so not done: another drain gets them while that process lives on.
            assert SegmentSpool(tmp_path).claim(10) == events
        finally:
            drain.kill()


def test_fsync_on_threads_and_rotation_lose_nothing_and_leak_no_fd(tmp_path, monkeypatch, settings):
    """SPOOL_FSYNC with group commit: threads share syncs, segments rotate under them, and every
    sealed segment's fd is closed once the last sync on it is done."""
    import threading

    settings.BUGSINK_INGEST_SPOOL_FSYNC = True
    monkeypatch.setattr(writer, "SEGMENT_BYTES", 4096)  # rotates every dozen events
    open_fds = len(os.listdir("/proc/self/fd"))
    s = SegmentSpool(tmp_path)
    events = [make_event(i) for i in range(400)]

    def write(share):
        for e in share:
            s.write(e)

    threads = [threading.Thread(target=write, args=(events[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(os.listdir("/proc/self/fd")) == open_fds + 1  # the open segment only
    got = s.claim(1000)
    assert sorted(e.spool_id for e in got) == sorted(e.spool_id for e in events)
    s.ack([e.spool_id for e in got])
    s.writer.close()
    assert s.claim(10) == [] and segment_files(s) == []
    assert len(os.listdir("/proc/self/fd")) == open_fds
