"""Attachments of stored events: kept as zstd rows of ATTACHMENT_CHUNK bytes (EventAttachmentChunk),
written and read a chunk at a time, so that no attachment is ever held whole in memory."""

import hashlib
import logging
import threading

import zstandard
from django.db.models import Sum

from bugsink_issues.conf import app_settings
from bugsink_issues.digest.storage import decompress
from bugsink_issues.models import Event, EventAttachment, EventAttachmentChunk

logger = logging.getLogger(__name__)

_local = threading.local()  # zstd compressors are not thread-safe

ATTACHMENT_CHUNK = 1024 * 1024  # bytes of an attachment per EventAttachmentChunk row
CHUNKS_PER_INSERT = 8  # rows per INSERT: bounds what the digest holds of one attachment


def _plain_compressor():
    """Attachments are compressed without the event dictionary (they are not event JSON)."""
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=3)
    return compressor


def compress_attachment(data: bytes) -> bytes:
    return _plain_compressor().compress(data)


def store_attachment(event, attachment):
    """Store a bugsink_ingest SpooledAttachment of `event` (a saved Event), read and compressed
    a chunk at a time; its real size and sha256 are recorded. ValueError if fewer or more bytes
    come than the spool said (the batch then stays spooled)."""
    row = EventAttachment.objects.create(
        event=event,
        filename=str(attachment.filename or "attachment")[:255],
        content_type=str(attachment.content_type or "")[:255],
        attachment_type=str(attachment.attachment_type or "")[:64],
        size=0,
    )
    digest, size, seq, pending = hashlib.sha256(), 0, 0, []
    with attachment.open() as source:
        while piece := source.read(ATTACHMENT_CHUNK):
            digest.update(piece)
            size += len(piece)
            pending.append(
                EventAttachmentChunk(attachment=row, seq=seq, data=compress_attachment(piece))
            )
            seq += 1
            if len(pending) >= CHUNKS_PER_INSERT:
                EventAttachmentChunk.objects.bulk_create(pending)
                pending = []
    EventAttachmentChunk.objects.bulk_create(pending)
    if size != attachment.size:
        raise ValueError(
            f"attachment {attachment.filename!r} of event {event.event_id}: {size} bytes read, "
            f"the spool said {attachment.size}"
        )
    row.size, row.sha256, row.chunk_count = size, digest.hexdigest(), seq
    EventAttachment.objects.filter(pk=row.pk).update(size=size, sha256=row.sha256, chunk_count=seq)
    return row


class AttachmentQuota:
    """What a project's stored attachments may still grow by (ATTACHMENT_QUOTA_PER_PROJECT),
    summed once per digest of a batch that has attachments and counted down as they are stored.
    Summed from the database inside the digest's transaction, under the project's lock: every
    worker and host shares it, and two digests of a project never spend the same bytes."""

    def __init__(self, project_id):
        cap = app_settings.ATTACHMENT_QUOTA_PER_PROJECT
        if cap is None:
            self.left = None
        else:
            used = EventAttachment.objects.filter(event__project_id=project_id).aggregate(
                total=Sum("size")
            )["total"]
            self.left = cap - (used or 0)

    def take(self, size):
        """True (and counted) if `size` more bytes fit."""
        if self.left is None:
            return True
        if size > self.left:
            return False
        self.left -= size
        return True


def store_attachments(event, attachments, quota):
    """Store each SpooledAttachment of a saved Event that the quota lets in; those refused are
    named in the event's problems (shown on its page)."""
    refused = []
    for attachment in attachments:
        if quota.take(attachment.size):
            store_attachment(event, attachment)
        else:
            refused.append(
                {
                    "path": f"attachments.{str(attachment.filename)[:100]}",
                    "problem": f"not stored: the project's attachment quota "
                    f"({app_settings.ATTACHMENT_QUOTA_PER_PROJECT} bytes, "
                    f"BUGSINK_ISSUES_ATTACHMENT_QUOTA_PER_PROJECT) is used up",
                }
            )
    if refused:
        event.problems = [*(event.problems or []), *refused]
        Event.objects.filter(pk=event.pk).update(problems=event.problems)
        logger.warning(
            "project %s: %d attachments of event %s over the attachment quota, not stored",
            event.project_id,
            len(refused),
            event.event_id,
        )


def attach_to_stored_events(project_id, spooled):
    """Attachments sent in envelopes of their own (no event item; the envelope's event_id names
    an event stored before): stored with that event. Those whose event is not stored (never
    sent, removed by retention) are dropped, logged."""
    events = {
        e.event_id: e
        for e in Event.objects.filter(
            project_id=project_id, event_id__in={s.event_id for s in spooled}
        ).only("id", "event_id", "project_id", "problems")
    }
    # Stored by an earlier delivery of this batch (a later project of it failed after this one
    # committed, or the drain died before its ack): not stored twice.
    stored = set(
        EventAttachment.objects.filter(event__in=events.values()).values_list(
            "event_id", "filename", "size"
        )
    )
    quota = AttachmentQuota(project_id)
    for s in spooled:
        event = events.get(s.event_id)
        if event is None:
            logger.info(
                "project %s: %d attachments for event %s, which is not stored; dropped",
                project_id,
                len(s.attachments),
                s.event_id,
            )
            continue
        fresh = [a for a in s.attachments if (event.pk, a.filename, a.size) not in stored]
        if fresh:
            store_attachments(event, fresh, quota)


def attachment_chunks(attachment):
    """The bytes of a stored EventAttachment, a chunk at a time (for downloads)."""
    if attachment.chunk_count == 0 and attachment.data:
        yield decompress(bytes(attachment.data))  # stored before chunks
        return
    rows = attachment.chunks.order_by("seq").values_list("data", flat=True)
    for blob in rows.iterator(chunk_size=1):
        yield decompress(bytes(blob))


def load_attachment(attachment) -> bytes:
    """The whole attachment in memory: for small ones (and tests) only."""
    return b"".join(attachment_chunks(attachment))
