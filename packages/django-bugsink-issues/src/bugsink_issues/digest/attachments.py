"""Attachments of stored events: kept as zstd rows of ATTACHMENT_CHUNK bytes (EventAttachmentChunk),
written and read a chunk at a time, so that no attachment is ever held whole in memory."""

import hashlib
import threading

import zstandard

from bugsink_issues.digest.storage import decompress
from bugsink_issues.models import EventAttachment, EventAttachmentChunk

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
