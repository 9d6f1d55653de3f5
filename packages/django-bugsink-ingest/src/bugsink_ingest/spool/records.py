"""What a spool keeps of an accepted event, and its bytes: a JSON line describing it, then the
payload raw (every spool stores this blob; the segment spool frames it).

Attachments are not in the blob: they can be a hundred MiB, so the spool streams each to storage
of its own (`Spool.write_attachment`) as the envelope is parsed, and the blob names it by the
reference the spool gave it. A consumer opens an attachment and reads it in chunks.
"""

import io
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any, BinaryIO

import orjson

CHUNK_SIZE = 1024 * 1024  # attachments are copied and read this much at a time


@dataclass(frozen=True)
class SpooledAttachment:
    """An `attachment` item of the event's envelope: open() it and read it in chunks."""

    filename: str  # the item header's filename ("attachment" when it had none)
    content_type: str  # the item header's content_type ("application/octet-stream" when none)
    attachment_type: str  # the item header's attachment_type ("event.attachment" when none)
    size: int  # bytes, the real size of the payload as sent (after the body's decompression)
    # A new reader of the payload from its start, each time it is called.
    opener: Callable[[], BinaryIO] = field(compare=False, repr=False)
    # Where the spool keeps the bytes ("" until a spool has them); the spool's business alone.
    ref: str = field(default="", compare=False)

    def open(self) -> BinaryIO:
        """The payload, to read in chunks (close it, or use it in a with block)."""
        return self.opener()

    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        with self.open() as f:
            while piece := f.read(size):
                yield piece

    @classmethod
    def from_bytes(
        cls, filename: str, content_type: str, attachment_type: str, data: bytes
    ) -> "SpooledAttachment":
        """An attachment held in memory (tests, or a consumer fed from elsewhere)."""
        return cls(filename, content_type, attachment_type, len(data), partial(io.BytesIO, data))


@dataclass(frozen=True)
class SpooledEvent:
    """One accepted item, as the consumer receives it."""

    spool_id: str  # opaque, unique in the spool; sorts by arrival
    project_id: int  # the Project the DSN key belongs to (authenticated)
    event_id: str  # 32 lowercase hex; the envelope's event_id wins over the payload's
    received_at: datetime  # aware UTC, when ingest accepted it
    payload: bytes  # the item's JSON bytes as sent, after the body's decompression; not parsed
    # "event" | "feedback" | "user_report" | "check_in" | "attachment" (attachments alone, for
    # the stored event named by event_id; the payload is empty)
    kind: str = "event"
    attachments: tuple[SpooledAttachment, ...] = ()  # kinds "event" and "attachment", if wanted
    # The request's sentry_client (X-Sentry-Auth, Authorization or the query string), e.g.
    # "raven-js/3.27.2"; "" when it named none. Old SDKs name themselves only there.
    sentry_client: str = ""


_counter = 0


def new_spool_id() -> str:
    """Sorts by arrival time; unique across processes and hosts (random suffix)."""
    global _counter
    _counter = (_counter + 1) % 1_000_000
    return f"{time.time_ns():020d}-{os.getpid()}-{_counter:06d}-{os.urandom(4).hex()}"


def dump(event: SpooledEvent) -> bytes:
    """The event as bytes (without its spool id, which each spool keeps its own way). Its
    attachments must be in the spool already (each has its ref)."""
    meta = {
        "project_id": event.project_id,
        "event_id": event.event_id,
        "received_at": event.received_at.isoformat(),
        "kind": event.kind,
        "payload": len(event.payload),
        **({"client": event.sentry_client} if event.sentry_client else {}),
        "attachments": [
            [a.filename, a.content_type, a.attachment_type, a.size, a.ref]
            for a in event.attachments
        ],
    }
    if any(not a.ref for a in event.attachments):
        raise ValueError("an attachment must be in the spool before its event")
    return b"".join([_dump_meta(meta), b"\n", event.payload])


def _dump_meta(meta: dict[str, Any]) -> bytes:
    # orjson: the meta line is written for every item on the request path (~0.2 us against the
    # standard library's ~3.6). It refuses what JSON can carry but UTF-8 cannot: a lone surrogate
    # (an item header's filename may hold the escape \ud800), which the standard library escapes.
    try:
        return orjson.dumps(meta)
    except orjson.JSONEncodeError:
        return json.dumps(meta).encode()


def _load_meta(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)  # a line with a lone surrogate's escape (see _dump_meta)


def with_spooled_attachments(
    event: SpooledEvent, write_attachment: Callable[[Iterator[bytes]], tuple[str, int]]
) -> SpooledEvent:
    """The event, its attachments that no spool has yet written through write_attachment."""
    if all(a.ref for a in event.attachments):
        return event
    attachments = []
    for a in event.attachments:
        if not a.ref:
            ref, size = write_attachment(a.chunks())
            a = replace(a, ref=ref, size=size)
        attachments.append(a)
    return replace(event, attachments=tuple(attachments))


def attachment_refs(event: SpooledEvent) -> list[str]:
    return [a.ref for a in event.attachments if a.ref]


def load(
    spool_id: str, blob: bytes, open_attachment: Callable[[str], BinaryIO] | None = None
) -> SpooledEvent:
    """The event dump() made; ValueError, KeyError or TypeError if the blob is not one.
    open_attachment(ref) opens an attachment the spool keeps."""
    end = blob.index(b"\n")
    meta = _load_meta(blob[:end])
    pos = end + 1
    payload = blob[pos : pos + meta["payload"]]
    pos += meta["payload"]
    attachments = []
    for entry in meta["attachments"]:
        if len(entry) == 4:
            # Written before attachments had storage of their own: the bytes follow the payload.
            filename, content_type, attachment_type, size = entry
            data = blob[pos : pos + size]
            pos += size
            attachments.append(
                SpooledAttachment.from_bytes(filename, content_type, attachment_type, data)
            )
            continue
        filename, content_type, attachment_type, size, ref = entry
        if open_attachment is None or not isinstance(ref, str) or not isinstance(size, int):
            raise TypeError(f"spooled event {spool_id} names attachment {ref!r} it cannot open")
        attachments.append(
            SpooledAttachment(
                filename, content_type, attachment_type, size, partial(open_attachment, ref), ref
            )
        )
    if pos != len(blob):
        raise ValueError(f"spooled event {spool_id} is truncated")
    return SpooledEvent(
        spool_id=spool_id,
        project_id=meta["project_id"],
        event_id=meta["event_id"],
        received_at=datetime.fromisoformat(meta["received_at"]),
        payload=payload,
        kind=meta["kind"],
        attachments=tuple(attachments),
        sentry_client=meta.get("client", ""),
    )


# The errors load() raises for a blob that is not a spooled event (a bug or disk damage).
UNREADABLE = (ValueError, KeyError, TypeError)
