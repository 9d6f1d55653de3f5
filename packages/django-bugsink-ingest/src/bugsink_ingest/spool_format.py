"""One spooled event as bytes: a JSON line describing it, then the payload and attachments raw."""

import json
import os
import time
from datetime import datetime

from bugsink_ingest.spool import SpooledAttachment, SpooledEvent

_counter = 0


def new_spool_id() -> str:
    """Sorts by arrival time; unique across processes and hosts (random suffix)."""
    global _counter
    _counter = (_counter + 1) % 1_000_000
    return f"{time.time_ns():020d}-{os.getpid()}-{_counter:06d}-{os.urandom(4).hex()}"


def dump(event: SpooledEvent) -> bytes:
    meta = {
        "project_id": event.project_id,
        "event_id": event.event_id,
        "received_at": event.received_at.isoformat(),
        "kind": event.kind,
        "payload": len(event.payload),
        "attachments": [
            [a.filename, a.content_type, a.attachment_type, len(a.data)] for a in event.attachments
        ],
    }
    parts = [json.dumps(meta).encode(), b"\n", event.payload]
    parts.extend(a.data for a in event.attachments)
    return b"".join(parts)


def load(spool_id: str, blob: bytes) -> SpooledEvent:
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
    )
