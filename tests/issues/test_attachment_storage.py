"""Attachments in the digest: stored a chunk at a time with their real size and sha256, read back
the same way (the admin's download streams them), removed with their event by retention."""

import hashlib
import io
import os

import pytest
from django.urls import reverse

from bugsink_issues.digest.attachments import (
    ATTACHMENT_CHUNK,
    attachment_chunks,
    compress_attachment,
    load_attachment,
)
from bugsink_issues.models import (
    Event,
    EventAttachment,
    EventAttachmentChunk,
    ProjectSettings,
)
from tests.factories import SpooledAttachment, make_user, python_exception, spooled

pytestmark = pytest.mark.django_db


def test_a_large_attachment_is_stored_in_chunks_with_its_real_size(project, digest):
    data = os.urandom(2 * ATTACHMENT_CHUNK + 12345)  # more than the old 20 MiB cut would see
    item = SpooledAttachment.from_bytes("core", "application/octet-stream", "event.minidump", data)
    digest([spooled(project, python_exception(), attachments=(item,))])
    stored = EventAttachment.objects.get()
    assert stored.size == len(data) and stored.chunk_count == 3
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.data == b"" or bytes(stored.data) == b""
    assert [len(c) for c in attachment_chunks(stored)] == [ATTACHMENT_CHUNK] * 2 + [12345]
    assert load_attachment(stored) == data


def test_an_attachment_cut_short_in_the_spool_fails_the_batch(project, digest):
    short = SpooledAttachment(
        "a.txt", "text/plain", "event.attachment", 10, lambda: io.BytesIO(b"only 7")
    )
    with pytest.raises(ValueError, match="the spool said 10"):
        digest([spooled(project, python_exception(), attachments=(short,))])
    assert not Event.objects.exists() and not EventAttachmentChunk.objects.exists()


def test_rows_stored_before_chunks_still_read(project, digest):
    digest([spooled(project, python_exception())])
    legacy = EventAttachment.objects.create(
        event=Event.objects.get(), filename="old.txt", data=compress_attachment(b"old"), size=3
    )
    assert load_attachment(legacy) == b"old"


def test_retention_removes_attachment_data_with_the_event(project, digest):
    ProjectSettings.objects.create(project=project, retention_max_events=1)
    item = SpooledAttachment.from_bytes("a.bin", "", "event.attachment", b"x" * 3_000_000)
    # Two events of one issue: the first is pinned (kept), the second is over the cap.
    digest([spooled(project, python_exception())])
    digest([spooled(project, python_exception(), attachments=(item,))])
    assert Event.objects.count() == 1
    assert EventAttachment.objects.count() == 0
    assert EventAttachmentChunk.objects.count() == 0


def test_the_admin_download_streams_the_attachment(project, digest, client):
    data = os.urandom(ATTACHMENT_CHUNK + 1)
    item = SpooledAttachment.from_bytes("dump ü.bin", "text/html", "event.attachment", data)
    digest([spooled(project, python_exception(), attachments=(item,))])
    stored = EventAttachment.objects.get()
    client.force_login(make_user("root", superuser=True))
    url = reverse("admin:bugsink_issues_eventattachment_download", args=[stored.pk])
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/octet-stream"  # never rendered
    assert response["Content-Length"] == str(len(data))
    assert "filename*=UTF-8''dump%20%C3%BC.bin" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == data
    client.force_login(make_user("nobody"))
    assert client.get(url).status_code == 302  # the admin's login, not the file
