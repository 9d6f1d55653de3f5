"""POST /api/<project>/minidump/ through the real ingest view: the multipart form crash reporters
send (the minidump in upload_file_minidump, event data in `sentry` / `sentry[...]` fields,
Crashpad's annotations) becomes one event with the minidump attached, streamed to the spool; a
missing, oversized or malformed upload is a clear 4xx with nothing stored. And an envelope whose
only item is an event.minidump attachment becomes an event too."""

import gzip
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bugsink_ingest import spool
from bugsink_ingest.models import Project, ProjectKey

pytestmark = pytest.mark.django_db

MINIDUMP = (
    Path(__file__).parent.parent / "issues/data/minidumps/linux-x86_64-sigsegv.dmp"
).read_bytes()
handed = []


def recording_consumer(events):
    # The attachments are read here: the spool removes their files once the batch is taken.
    for event in events:
        handed.append((event, [(a, b"".join(a.chunks())) for a in event.attachments]))


@pytest.fixture
def upload(tmp_path, settings):
    settings.BUGSINK_INGEST_SPOOL_DIR = tmp_path / "spool"
    settings.BUGSINK_INGEST_RATE_LIMIT_DB = tmp_path / "limits.sqlite3"
    settings.BUGSINK_INGEST_CONSUMER = "tests.ingest.test_minidump_upload.recording_consumer"
    key = ProjectKey.objects.create(project=Project.objects.create(name="native"))
    spool._spool_for.cache_clear()
    handed.clear()

    def run(data=None, *, body=None, content_type=None, query="", **headers):
        url = f"/api/{key.project_id}/minidump/?sentry_key={key.public_key}{query}"
        if body is not None:
            return Client().post(url, body, content_type=content_type, headers=headers)
        return Client().post(url, data or {}, headers=headers)  # multipart, as a browser would

    run.key = key  # type: ignore[attr-defined]
    run.dir = tmp_path / "spool"  # type: ignore[attr-defined]
    yield run
    spool._spool_for.cache_clear()


def _dump(name="crash.dmp"):
    return SimpleUploadedFile(name, MINIDUMP, "application/octet-stream")


def _spool_files(directory):
    attachments = directory / "attachments"
    return sorted(p.name for p in attachments.iterdir()) if attachments.exists() else []


def test_a_minidump_with_a_sentry_json_field_becomes_one_event(upload):
    sentry = {"release": "app@2.0", "environment": "prod", "tags": {"build": "x"}}
    answer = upload({"upload_file_minidump": _dump(), "sentry": json.dumps(sentry)})
    assert answer.status_code == 200, answer.content
    ((event, files),) = handed
    assert json.loads(answer.content) == {"id": event.event_id}
    payload = json.loads(event.payload)
    assert payload["release"] == "app@2.0" and payload["environment"] == "prod"
    assert payload["tags"] == {"build": "x"}
    assert payload["platform"] == "native" and payload["level"] == "fatal"
    ((attachment, data),) = files
    assert attachment.attachment_type == "event.minidump"
    assert attachment.filename == "crash.dmp" and attachment.size == len(MINIDUMP)
    assert data == MINIDUMP


def test_bracket_fields_nest_and_annotations_go_to_extra(upload):
    answer = upload(
        {
            "upload_file_minidump": _dump(),
            "sentry[release]": "app@3.1",
            "sentry[tags][os]": "linux",
            "sentry[user][id]": "42",
            "prod": "crashdemo",
            "ver": "1.2.3",
            "_productName": "Crash Demo",
            "log_file": SimpleUploadedFile("app.log", b"last words\n", "text/plain"),
        }
    )
    assert answer.status_code == 200, answer.content
    ((event, files),) = handed
    payload = json.loads(event.payload)
    assert payload["release"] == "app@3.1"
    assert payload["tags"] == {"os": "linux"} and payload["user"] == {"id": "42"}
    assert payload["extra"] == {"prod": "crashdemo", "ver": "1.2.3", "_productName": "Crash Demo"}
    # Other files of the form are attachments of the event as well.
    assert [(a.filename, a.attachment_type, d) for a, d in files] == [
        ("crash.dmp", "event.minidump", MINIDUMP),
        ("app.log", "event.attachment", b"last words\n"),
    ]


def test_a_gzipped_body_as_crashpad_sends_it(upload):
    boundary = "---MultipartBoundary-abcdefghijklmnop---"
    parts = [
        (b'name="prod"', b"crashdemo"),
        (b'name="upload_file_minidump"; filename="f00d.dmp"', MINIDUMP),
    ]
    body = (
        b"".join(
            b"--%s\r\nContent-Disposition: form-data; %s\r\nContent-Type: application/octet-stream"
            b"\r\n\r\n%s\r\n" % (boundary.encode(), header, data)
            for header, data in parts
        )
        + b"--%s--\r\n" % boundary.encode()
    )
    answer = upload(
        body=gzip.compress(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        query="&product=crashdemo&version=1.2.3",
        content_encoding="gzip",
    )
    assert answer.status_code == 200, answer.content
    ((event, files),) = handed
    assert json.loads(event.payload)["extra"] == {"prod": "crashdemo"}
    assert files[0][1] == MINIDUMP and files[0][0].filename == "f00d.dmp"


def test_a_form_without_a_minidump_is_refused(upload):
    answer = upload({"sentry[release]": "a@1", "other": SimpleUploadedFile("x.txt", b"x")})
    assert answer.status_code == 400
    assert "upload_file_minidump" in answer.json()["detail"]
    assert handed == [] and _spool_files(upload.dir) == []  # the other file was removed again


def test_an_empty_minidump_is_refused(upload):
    answer = upload({"upload_file_minidump": SimpleUploadedFile("e.dmp", b"")})
    assert answer.status_code == 400 and "empty" in answer.json()["detail"]
    assert handed == [] and _spool_files(upload.dir) == []


def test_an_oversized_minidump_is_413_and_nothing_is_kept(upload, settings):
    settings.BUGSINK_INGEST_MAX_ATTACHMENT_SIZE = 4096
    answer = upload({"upload_file_minidump": _dump()})
    assert answer.status_code == 413
    detail = answer.json()["detail"]
    assert "upload_file_minidump is over 4096 bytes" in detail
    assert "BUGSINK_INGEST_MAX_ATTACHMENT_SIZE" in detail
    assert handed == [] and _spool_files(upload.dir) == []


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (b"{}", "application/json", "multipart/form-data"),
        (b"--x\r\n", "multipart/form-data", "boundary"),
        (  # cut off inside the minidump
            b'--b\r\nContent-Disposition: form-data; name="upload_file_minidump"; '
            b'filename="c.dmp"\r\n\r\nMDMP\x93\xa7',
            "multipart/form-data; boundary=b",
            "ended inside",
        ),
        (b"--b\r\nno-colon-here\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b", "header"),
        (
            b'--b\r\nContent-Disposition: form-data; name="sentry"\r\n\r\n[1, 2]\r\n--b--',
            "multipart/form-data; boundary=b",
            "sentry form field is not a JSON object",
        ),
        (
            b'--b\r\nContent-Disposition: form-data; name="sentry[a]b"\r\n\r\nx\r\n--b--',
            "multipart/form-data; boundary=b",
            "sentry[key]",
        ),
    ],
)
def test_malformed_uploads_are_400_with_a_reason(upload, body, content_type, message):
    answer = upload(body=body, content_type=content_type)
    assert answer.status_code == 400, answer.content
    assert message in answer.json()["detail"]
    assert handed == [] and _spool_files(upload.dir) == []


def test_a_wrong_key_is_refused_before_the_body_is_read(upload):
    url = f"/api/{upload.key.project_id}/minidump/?sentry_key=0123456789abcdef"
    answer = Client().post(url, {"upload_file_minidump": _dump()})
    assert answer.status_code in (401, 403)
    assert handed == []


def test_an_envelope_of_a_minidump_alone_becomes_an_event(upload):
    event_id = "5e" * 16
    header = {"event_id": event_id, "dsn": f"http://{upload.key.public_key}@x/1"}
    item = {
        "type": "attachment",
        "length": len(MINIDUMP),
        "filename": "minidump.dmp",
        "attachment_type": "event.minidump",
    }
    body = b"\n".join([json.dumps(header).encode(), json.dumps(item).encode(), MINIDUMP]) + b"\n"
    url = f"/api/{upload.key.project_id}/envelope/?sentry_key={upload.key.public_key}"
    answer = Client().post(url, body, content_type="application/x-sentry-envelope")
    assert answer.status_code == 200, answer.content
    ((event, files),) = handed
    assert event.kind == "event" and event.event_id == event_id
    assert json.loads(event.payload) == {
        "event_id": event_id,
        "platform": "native",
        "level": "fatal",
    }
    assert [(a.attachment_type, d) for a, d in files] == [("event.minidump", MINIDUMP)]


def test_a_lone_surrogate_in_the_sentry_field_is_kept_escaped(upload):
    answer = upload({"upload_file_minidump": _dump(), "sentry": '{"message": "bad \\ud800"}'})
    assert answer.status_code == 200, answer.content
    ((event, _),) = handed
    assert b"\\ud800" in event.payload and json.loads(event.payload)["message"] == "bad \ud800"
