"""A test consumer: writes every event it is handed to a file, so tests see exactly what left the
spool. Idempotent (one file per spool id), as the contract asks of consumers.

INGEST_TEST_DIR/received/<spool_id>.json; INGEST_TEST_FAIL_FILE makes it raise while that file exists.
"""

import base64
import json
import os
from pathlib import Path


def _dir() -> Path:
    path = Path(os.environ["INGEST_TEST_DIR"]) / "received"
    path.mkdir(parents=True, exist_ok=True)
    return path


def record(events) -> None:
    if (Path(os.environ["INGEST_TEST_DIR"]) / "consumer-fails").exists():
        raise RuntimeError("the test consumer was told to fail")
    out = _dir()
    for e in events:
        data = {
            "spool_id": e.spool_id,
            "project_id": e.project_id,
            "event_id": e.event_id,
            "kind": e.kind,
            "sentry_client": e.sentry_client,
            "received_at": e.received_at.isoformat(),
            "payload": base64.b64encode(e.payload).decode(),
            "attachments": [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "attachment_type": a.attachment_type,
                    "size": a.size,
                    "data": base64.b64encode(b"".join(a.chunks())).decode(),
                }
                for a in e.attachments
            ],
        }
        tmp = out / f".{e.spool_id}.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, out / f"{e.spool_id}.json")


def received(directory) -> list[dict]:
    """What the consumer got, oldest spool id first, payloads decoded."""
    path = Path(directory) / "received"
    if not path.exists():
        return []
    rows = []
    for f in sorted(path.glob("*.json")):
        row = json.loads(f.read_text())
        row["payload"] = base64.b64decode(row["payload"])
        for a in row["attachments"]:
            a["data"] = base64.b64decode(a["data"])
        rows.append(row)
    return rows


def noop(events) -> None:
    """For the benchmark: the events leave the spool and nothing else happens."""


def record_digests(events) -> None:
    """Like record(), but attachments are read in chunks and only their size and sha256 kept
    (the memory tests send attachments of a hundred MiB)."""
    import hashlib

    out = _dir()
    for e in events:
        sums = []
        for a in e.attachments:
            digest, size = hashlib.sha256(), 0
            for piece in a.chunks():
                digest.update(piece)
                size += len(piece)
            sums.append(
                {"filename": a.filename, "size": a.size, "read": size, "sha256": digest.hexdigest()}
            )
        tmp = out / f".{e.spool_id}.tmp"
        tmp.write_text(json.dumps({"event_id": e.event_id, "attachments": sums}))
        os.replace(tmp, out / f"{e.spool_id}.sums")
