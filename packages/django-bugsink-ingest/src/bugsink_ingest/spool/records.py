"""What a spool keeps of an accepted event, and its bytes: a JSON line describing it, then the
payload and the attachments raw (every spool stores this blob; the segment spool frames it)."""

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SpooledAttachment:
    """An `attachment` item of the event's envelope."""

    filename: str  # the item header's filename ("attachment" when it had none)
    content_type: str  # the item header's content_type ("application/octet-stream" when none)
    attachment_type: str  # the item header's attachment_type ("event.attachment" when none)
    data: bytes  # the item's payload as sent (after the request body's decompression)


@dataclass(frozen=True)
class SpooledEvent:
    """One accepted item, as the consumer receives it."""

    spool_id: str  # opaque, unique in the spool; sorts by arrival
    project_id: int  # the Project the DSN key belongs to (authenticated)
    event_id: str  # 32 lowercase hex; the envelope's event_id wins over the payload's
    received_at: datetime  # aware UTC, when ingest accepted it
    payload: bytes  # the item's JSON bytes as sent, after the body's decompression; not parsed
    kind: str = "event"  # "event" | "feedback" | "user_report"
    attachments: tuple[SpooledAttachment, ...] = ()  # only for kind "event", only if wanted
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
    """The event as bytes (without its spool id, which each spool keeps its own way)."""
    meta = {
        "project_id": event.project_id,
        "event_id": event.event_id,
        "received_at": event.received_at.isoformat(),
        "kind": event.kind,
        "payload": len(event.payload),
        **({"client": event.sentry_client} if event.sentry_client else {}),
        "attachments": [
            [a.filename, a.content_type, a.attachment_type, len(a.data)] for a in event.attachments
        ],
    }
    parts = [json.dumps(meta).encode(), b"\n", event.payload]
    parts.extend(a.data for a in event.attachments)
    return b"".join(parts)


def load(spool_id: str, blob: bytes) -> SpooledEvent:
    """The event dump() made; ValueError, KeyError or TypeError if the blob is not one."""
    end = blob.index(b"\n")
    meta = json.loads(blob[:end])
    pos = end + 1
    payload = blob[pos : pos + meta["payload"]]
    pos += meta["payload"]
    attachments = []
    for filename, content_type, attachment_type, size in meta["attachments"]:
        attachments.append(
            SpooledAttachment(filename, content_type, attachment_type, blob[pos : pos + size])
        )
        pos += size
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
