"""Stored payloads: compact JSON compressed with zstd.

A dictionary id is stored per row (0 = plain zstd) so a shared dictionary can be introduced later
without rewriting old rows.
"""

import hashlib
import json
import threading

import orjson
import zstandard

from bugsink_issues.conf import app_settings
from bugsink_issues.digest import compression_dict

CURRENT_DICT_ID = compression_dict.DICT_ID

_local = threading.local()  # zstd (de)compressor objects are not thread-safe
_DICTIONARIES: dict[int, zstandard.ZstdCompressionDict] = {}


def _dictionary(dict_id):
    if dict_id not in _DICTIONARIES:
        if dict_id != compression_dict.DICT_ID:
            raise ValueError(f"unknown compression dictionary {dict_id}")
        _DICTIONARIES[dict_id] = zstandard.ZstdCompressionDict(
            compression_dict.dictionary_bytes(), dict_type=zstandard.DICT_TYPE_RAWCONTENT
        )
    return _DICTIONARIES[dict_id]


def _compressor():
    level = app_settings.COMPRESSION_LEVEL
    compressor = getattr(_local, "compressor", None)
    if compressor is None or _local.level != level:
        compressor = _local.compressor = zstandard.ZstdCompressor(
            level=level, dict_data=_dictionary(CURRENT_DICT_ID)
        )
        _local.level = level
    return compressor


def _decompressor(dict_id):
    cache = getattr(_local, "decompressors", None)
    if cache is None:
        cache = _local.decompressors = {}
    if dict_id not in cache:
        cache[dict_id] = (
            zstandard.ZstdDecompressor(dict_data=_dictionary(dict_id))
            if dict_id
            else zstandard.ZstdDecompressor()
        )
    return cache[dict_id]


def dump_json(data) -> bytes:
    # orjson is several times faster than json on event-sized documents; json takes what orjson
    # refuses (integers beyond 64 bits, lone surrogates).
    try:
        return orjson.dumps(data, default=str)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(
            data, separators=(",", ":"), ensure_ascii=False, default=str, allow_nan=True
        ).encode("utf-8", "surrogatepass")


def compress(raw: bytes) -> tuple[bytes, int]:
    """(compressed bytes, dictionary id to store with them)."""
    return _compressor().compress(raw), CURRENT_DICT_ID


def decompress(blob, dict_id=0) -> bytes:
    return _decompressor(dict_id).decompress(bytes(blob))


def load_payload(event) -> dict:
    """The stored payload of an Event (or UserFeedback) as a dict."""
    raw = decompress(event.payload, getattr(event, "payload_dict_id", 0))
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    try:
        data = json.loads(raw) if data is None else data
    except ValueError:
        return {"_unparseable": raw.decode("utf-8", "replace")}
    return data if isinstance(data, dict) else {"_value": data}


ATTACHMENT_CHUNK = 1024 * 1024  # bytes of an attachment per EventAttachmentChunk row
CHUNKS_PER_INSERT = 8  # rows per INSERT: bounds what the digest holds of one attachment


def _plain_compressor():
    """Attachments are compressed without the event dictionary (they are not event JSON)."""
    compressor = getattr(_local, "plain_compressor", None)
    if compressor is None:
        compressor = _local.plain_compressor = zstandard.ZstdCompressor(level=3)
    return compressor


def compress_attachment(data: bytes) -> bytes:
    return _plain_compressor().compress(data)


def store_attachment(event, attachment):
    """Store a bugsink_ingest SpooledAttachment of `event` (a saved Event), read and compressed
    a chunk at a time; its real size and sha256 are recorded. ValueError if fewer or more bytes
    come than the spool said (the batch then stays spooled)."""
    from bugsink_issues.models import EventAttachment, EventAttachmentChunk

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
        yield _decompressor(0).decompress(bytes(attachment.data))  # stored before chunks
        return
    rows = attachment.chunks.order_by("seq").values_list("data", flat=True)
    for blob in rows.iterator(chunk_size=1):
        yield _decompressor(0).decompress(bytes(blob))


def load_attachment(attachment) -> bytes:
    """The whole attachment in memory: for small ones (and tests) only."""
    return b"".join(attachment_chunks(attachment))
