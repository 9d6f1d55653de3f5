"""Native crashes in the digest: a real Crashpad minidump (data/minidumps/README.md) posted to
the minidump endpoint as a crash reporter does becomes an issue titled from its crash reason and
crashing module, with the OS/CPU contexts and the top frame (module + offset) read from the dump,
the minidump stored and downloadable from the event page; a file that is no readable minidump
still makes an event, titled "Native crash", with the file attached."""

import io
import random
import struct
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bugsink_ingest.models import ProjectKey
from bugsink_issues.digest.minidumps import UnreadableMinidump, apply_minidump, read_minidump
from bugsink_issues.digest.storage import load_payload
from bugsink_issues.models import Event, EventAttachment, Issue
from tests.factories import DATA, SpooledAttachment, make_user, python_exception, spooled

pytestmark = pytest.mark.django_db

MINIDUMP = (DATA / "minidumps/linux-x86_64-sigsegv.dmp").read_bytes()
TITLE = "SIGSEGV: in crashdemo at +0x12eb"


@pytest.fixture
def post_minidump(client, project, django_capture_on_commit_callbacks):
    key = ProjectKey.objects.create(project=project, public_key=uuid.uuid4().hex)

    def post(data, **fields):
        form = {"upload_file_minidump": SimpleUploadedFile("crash.dmp", data), **fields}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/{project.pk}/minidump/?sentry_key={key.public_key}", form)
        assert response.status_code == 200, response.content
        return Event.objects.get(event_id=response.json()["id"])

    return post


def test_the_real_minidump_is_read():
    with open(DATA / "minidumps/linux-x86_64-sigsegv.dmp", "rb") as f:
        crash = read_minidump(f)
    assert (crash.reason, crash.code, crash.address) == ("SIGSEGV", 11, 0)
    assert crash.thread_id == 12924
    assert crash.module.name == "/tmp/native-demo/crashdemo"
    assert crash.instruction - crash.module.base == 0x12EB  # write_through_null (nm)
    assert [m.short_name for m in crash.modules] == [
        "crashdemo",
        "linux-vdso.so.1",
        "libc.so.6",
        "ld-linux-x86-64.so.2",
    ]
    assert (crash.os_name, crash.os_version, crash.arch, crash.cpu_count) == (
        "Linux",
        "6.18.44",
        "x86_64",
        2,
    )
    assert crash.problems == []


def test_a_posted_minidump_becomes_an_issue_from_what_it_says(post_minidump):
    event = post_minidump(MINIDUMP, **{"sentry[release]": "demo@1.2.3", "ver": "1.2.3"})
    issue = Issue.objects.get(pk=event.issue_id)
    assert issue.title == TITLE and event.title == TITLE
    assert event.platform == "native" and event.level == "fatal"
    assert event.culprit == "crashdemo +0x12eb"
    assert event.release == "demo@1.2.3"
    data = load_payload(event)
    (value,) = data["exception"]["values"]
    assert value["mechanism"] == {
        "type": "minidump",
        "handled": False,
        "meta": {"code": 11, "fault_address": "0x0"},
    }
    assert value["thread_id"] == 12924
    (frame,) = value["stacktrace"]["frames"]
    assert frame["package"] == "/tmp/native-demo/crashdemo" and frame["filename"] == "crashdemo"
    assert frame["module_offset"] == "0x12eb"
    assert data["contexts"]["os"]["name"] == "Linux"
    assert data["contexts"]["os"]["version"] == "6.18.44"
    assert data["contexts"]["device"] == {"type": "device", "arch": "x86_64", "processor_count": 2}
    assert data["extra"] == {"ver": "1.2.3"}
    (stored,) = EventAttachment.objects.filter(event=event)
    assert stored.attachment_type == "event.minidump" and stored.size == len(MINIDUMP)
    # The same crash again is the same issue.
    again = post_minidump(MINIDUMP)
    assert again.issue_id == event.issue_id


def test_an_unreadable_file_is_still_a_native_crash_with_the_file(post_minidump):
    junk = b"MDMP" + b"\xff" * 60 + b"not really a minidump"
    event = post_minidump(junk)
    assert event.title == "Native crash" and event.platform == "native"
    assert any("the minidump could not be read" in p["problem"] for p in event.problems)
    (stored,) = EventAttachment.objects.filter(event=event)
    assert stored.size == len(junk)


@pytest.mark.parametrize(
    "data",
    [b"", b"MDMP", b"PK\x03\x04" + b"\x00" * 100, MINIDUMP[:40], MINIDUMP[: len(MINIDUMP) // 2]],
)
def test_broken_files_are_refused_by_the_reader_or_read_in_part(tmp_path, data):
    path = tmp_path / "x.dmp"
    path.write_bytes(data)
    with open(path, "rb") as f:
        try:
            crash = read_minidump(f)
        except UnreadableMinidump:
            return
    # Half a file: its directory still fits; whatever lies past the end is named, not guessed.
    assert crash.problems or crash.reason is None or crash.module is None


def test_an_sdk_exception_is_kept_and_only_missing_contexts_are_filled(project, digest):
    item = SpooledAttachment.from_bytes("m.dmp", "", "event.minidump", MINIDUMP)
    payload = python_exception("MyError", "own words")
    payload["contexts"] = {"os": {"name": "Windows", "version": "11"}}
    digest([spooled(project, payload, attachments=(item,))])
    event = Event.objects.get()
    assert event.title == "MyError: own words"
    data = load_payload(event)
    assert data["contexts"]["os"]["name"] == "Windows"
    assert data["contexts"]["device"]["arch"] == "x86_64"


def test_the_event_page_shows_the_crash_and_the_minidump_downloads(client, post_minidump):
    event = post_minidump(MINIDUMP)
    client.force_login(make_user("root", superuser=True))
    page = client.get(reverse("bugsink_issues:event", args=[event.issue_id, event.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert TITLE in body
    # The stack trace tab (the default): the crashing module and the offset into it.
    assert '<span class="mono">crashdemo</span>' in body and "+0x12eb</span>" in body
    assert "crashdemo in ?" not in body  # no made-up function name
    details = client.get(
        reverse("bugsink_issues:event", args=[event.issue_id, event.pk]) + "?tab=details"
    ).content.decode()
    assert "Linux" in details and "6.18.44" in details and "x86_64" in details
    tab = client.get(
        reverse("bugsink_issues:event", args=[event.issue_id, event.pk]) + "?tab=attachments"
    ).content.decode()
    stored = EventAttachment.objects.get(event=event)
    download = reverse(
        "bugsink_issues:attachment_download", args=[event.issue_id, event.pk, stored.pk]
    )
    assert download in tab and "crash.dmp" in tab
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="crash.dmp"'
    assert b"".join(response.streaming_content) == MINIDUMP


def _moved_crash(data, delta):
    """The minidump with the crashing instruction (the exception context's RIP) moved by delta."""
    count, directory = struct.unpack_from("<II", data, 8)
    for i in range(count):
        stream_type, _, rva = struct.unpack_from("<III", data, directory + 12 * i)
        if stream_type == 6:  # the exception stream: its context's location is at +160
            _, context_rva = struct.unpack_from("<II", data, rva + 160)
            rip_at = context_rva + 0xF8  # CONTEXT (AMD64).Rip
            (rip,) = struct.unpack_from("<Q", data, rip_at)
            return data[:rip_at] + struct.pack("<Q", rip + delta) + data[rip_at + 8 :]
    raise AssertionError("no exception stream")


def test_issues_group_by_reason_and_module_not_offset(post_minidump):
    first = post_minidump(MINIDUMP)
    elsewhere_in_module = post_minidump(_moved_crash(MINIDUMP, 0x10))
    assert elsewhere_in_module.title == "SIGSEGV: in crashdemo at +0x12fb"
    assert elsewhere_in_module.issue_id == first.issue_id
    # Far away: in no module of the list (the top frame is a bare address), another issue.
    nowhere = post_minidump(_moved_crash(MINIDUMP, 0x10_0000_0000))
    assert nowhere.title == "SIGSEGV: at an address in no listed module"
    assert nowhere.issue_id != first.issue_id


class _Unseekable(io.RawIOBase):
    """A stream read front to back only, as the database spool's attachment reader is."""

    def __init__(self, data):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_stream_that_cannot_seek_is_copied_to_disk_and_read():
    stream = io.BufferedReader(_Unseekable(MINIDUMP))
    assert not stream.seekable()
    crash = read_minidump(stream)
    assert crash.reason == "SIGSEGV" and crash.module.short_name == "crashdemo"


def test_damaged_minidumps_never_raise_and_always_leave_a_title():
    """Bytes of the real minidump overwritten at random, or cut short: apply_minidump returns
    (no exception, no hang) and the event has an exception to be titled from."""
    rng = random.Random(20261202)
    for _ in range(300):
        data = bytearray(MINIDUMP)
        for _ in range(rng.randrange(1, 40)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data[: rng.choice([len(data), rng.randrange(len(data))])])
        item = SpooledAttachment.from_bytes("m.dmp", "", "event.minidump", data)
        event: dict = {}
        problems: list = []
        apply_minidump(
            event, _Spooled((item,)), lambda _path, problem, p=problems: p.append(problem)
        )
        (value,) = event["exception"]["values"]
        assert value["type"], value
        if value["type"] == "Native crash":
            assert problems  # unreadable: the reason is noted


class _Spooled:
    event_id = "ab" * 16

    def __init__(self, attachments):
        self.attachments = attachments
