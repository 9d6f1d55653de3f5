"""From parsed input to spooled events: ids, kinds, attachments, rate limits, backpressure."""

import base64
import binascii
import json
import logging
import re
import threading
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypedDict

from bugsink_ingest import ratelimit, security
from bugsink_ingest.auth import KeyInfo
from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.envelope import Item, parse_json_object
from bugsink_ingest.errors import BadRequest, TooLarge
from bugsink_ingest.handoff import OPTIONAL_KINDS, wanted_kinds, wants_attachments
from bugsink_ingest.spool import SpooledAttachment, SpooledEvent, get_spool, new_spool_id
from bugsink_ingest.tasks import arm_sweep, arm_sweep_now_and_then, wake_drain

MINIDUMP_TYPE = "event.minidump"  # the attachment_type of a native crash's minidump
_HEX32 = re.compile(r"[0-9a-f]{32}")
logger = logging.getLogger(__name__)


class Backpressure(Exception):
    pass


def normal_event_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.replace("-", "").lower()
    return value if _HEX32.fullmatch(value) else None


def _looks_like_object(payload: bytes) -> bool:
    stripped = payload.strip()
    return stripped[:1] == b"{" and stripped[-1:] == b"}"


class _EventFields(TypedDict, total=False):
    project_id: int
    event_id: str
    payload: bytes
    kind: str
    attachments: tuple[SpooledAttachment, ...]
    sentry_client: str


def events_from_envelope(
    headers: dict[str, Any],
    items: Iterable[Item],
    project_id: int,
    sentry_client: str = "",
    query_string: str = "",
) -> list[SpooledEvent]:
    """The events of an envelope as its items stream in. Attachments are written to the spool
    as they arrive (removed again should the envelope fail) and ride with its first event, if
    the consumer wants them. A raw_security item (a CSP report) becomes an event as a report to
    /security/ does, with the release and environment the request's query string names."""
    header_id = normal_event_id(headers.get("event_id"))
    now = datetime.now(UTC)
    events: list[_EventFields] = []
    attachments: list[SpooledAttachment] = []
    main: _EventFields | None = None
    keep_attachments: bool | None = None  # asked at the first attachment: most envelopes have none
    optional_kinds: frozenset[str] | None = None  # asked at the first session or client report
    kept_bytes, cap = 0, ingest_settings.MAX_ENVELOPE_ITEMS_SIZE
    try:
        for item in items:
            if item.type == "attachment":
                if keep_attachments is None:
                    keep_attachments = wants_attachments()
                if keep_attachments and item.body is not None:
                    attachments.append(spool_attachment(item.headers, item.body))
                continue
            if item.type in OPTIONAL_KINDS:
                if optional_kinds is None:
                    optional_kinds = wanted_kinds()
                # Not the SDK's own shape: dropped, as these items were before (never the
                # envelope's events with them). The consumer parses what it is handed.
                if item.type not in optional_kinds or not _looks_like_object(item.payload):
                    continue
            kept_bytes += len(item.payload)
            if kept_bytes > cap:
                raise TooLarge(
                    f"the envelope's events, feedback and user reports are over {cap} bytes "
                    "together (BUGSINK_INGEST_MAX_ENVELOPE_ITEMS_SIZE)"
                )
            if item.type == "raw_security":
                payload = security.report_to_event(
                    item.payload, security.report_context(query_string), header_id
                )
                item = Item("event", item.headers, payload)
            if item.type in OPTIONAL_KINDS:
                event_id = uuid.uuid4().hex  # no id of their own; the consumer dedupes by it
            elif item.type == "event" and header_id:
                # The usual case: the id is known, so a cheap shape check instead of a full
                # parse (the consumer parses the payload anyway and copes with broken JSON).
                if not _looks_like_object(item.payload):
                    raise BadRequest("event item is not a JSON object")
                event_id = header_id
            else:
                body = parse_json_object(item.payload, f"{item.type} item")
                own_id = normal_event_id(body.get("event_id"))
                event_id = (
                    (header_id if item.type == "event" else None) or own_id or uuid.uuid4().hex
                )
            event: _EventFields = {
                "project_id": project_id,
                "event_id": event_id,
                "payload": item.payload,
                "kind": item.type,
                "sentry_client": sentry_client,
            }
            if item.type == "event" and main is None:
                main = event
            events.append(event)
    except BaseException:
        discard_attachments(attachments)
        raise
    if main is not None and attachments:
        main["attachments"] = tuple(attachments)
    elif not events and any(a.attachment_type == MINIDUMP_TYPE for a in attachments):
        # A native crash sent as its minidump alone: the event is made of it (the digest reads
        # the minidump; this is all that is known here).
        event_id = header_id or uuid.uuid4().hex
        crash = {"event_id": event_id, "platform": "native", "level": "fatal"}
        events.append(
            {
                "project_id": project_id,
                "event_id": event_id,
                "payload": json.dumps(crash).encode(),
                "kind": "event",
                "attachments": tuple(attachments),
                "sentry_client": sentry_client,
            }
        )
    elif attachments and header_id and not events:
        # Attachments in an envelope of their own, for the event its header names (sent before):
        # the consumer attaches them to it if it is stored.
        events.append(
            {
                "project_id": project_id,
                "event_id": header_id,
                "payload": b"",
                "kind": "attachment",
                "attachments": tuple(attachments),
                "sentry_client": sentry_client,
            }
        )
    elif attachments:  # no event to attach them to
        discard_attachments(attachments)
    return [SpooledEvent(spool_id=new_spool_id(), received_at=now, **e) for e in events]


def spool_attachment(headers: dict[str, Any], body: Iterator[bytes]) -> SpooledAttachment:
    spool = get_spool()
    ref, size = spool.write_attachment(body)
    return SpooledAttachment(
        filename=str(headers.get("filename") or "attachment"),
        content_type=str(headers.get("content_type") or "application/octet-stream"),
        attachment_type=str(headers.get("attachment_type") or "event.attachment"),
        size=size,
        opener=partial(spool.open_attachment, ref),
        ref=ref,
    )


def discard_attachments(attachments: Iterable[SpooledAttachment]) -> None:
    refs = [a.ref for a in attachments if a.ref]
    if refs:
        try:
            get_spool().discard_attachments(refs)
        except Exception:
            logger.exception("could not remove the attachments of a refused envelope")


def store_payload(raw: bytes) -> bytes:
    """/store/ bodies: JSON, or (old SDKs) base64 of zlib data with no header saying so."""
    stripped = raw.lstrip()
    if stripped.startswith(b"{"):
        return raw
    try:
        packed = base64.b64decode(stripped, validate=False)
        d = zlib.decompressobj()
        data = d.decompress(packed, ingest_settings.MAX_EVENT_SIZE + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise BadRequest("store body is neither JSON nor base64 of zlib data") from None
    if len(data) > ingest_settings.MAX_EVENT_SIZE:
        raise TooLarge(f"event over {ingest_settings.MAX_EVENT_SIZE} bytes")
    return data


def event_from_store(payload: bytes, project_id: int, sentry_client: str = "") -> SpooledEvent:
    body = parse_json_object(payload, "event")
    return SpooledEvent(
        sentry_client=sentry_client,
        spool_id=new_spool_id(),
        project_id=project_id,
        event_id=normal_event_id(body.get("event_id")) or uuid.uuid4().hex,
        received_at=datetime.now(UTC),
        payload=payload,
    )


_backlog_checked: list[float] = [0.0, 0]  # when this process last looked, and what it saw
_backlog_refresh = threading.Lock()


def check_backpressure() -> None:
    """Refuse new events while the spool holds too many (looked at once a second per process;
    this process's own writes since are added)."""
    cap = ingest_settings.MAX_BACKLOG
    if cap is None:
        return
    # One thread per process looks; the others go on with the last figure instead of queueing
    # behind it (a count can take a while when it has to be taken afresh).
    if time.monotonic() - _backlog_checked[0] > 1.0 and _backlog_refresh.acquire(blocking=False):
        try:
            _backlog_checked[:] = [time.monotonic(), get_spool().approximate_backlog()]
        finally:
            _backlog_refresh.release()
    if _backlog_checked[1] >= cap:
        raise Backpressure()


@dataclass(frozen=True)
class Accepted:
    """What became of a request's events: the first `stored` were spooled; `limited` is the rate
    limit that refused the others (None: all stored); `refused` names their categories."""

    stored: int
    limited: ratelimit.Limited | None = None
    refused: tuple[str, ...] = ()


def _categories(events: list[SpooledEvent]) -> tuple[str, ...]:
    """Sentry's rate-limit categories of these items (what X-Sentry-Rate-Limits names)."""
    kinds = {e.kind for e in events}
    categories = ["error"] if "event" in kinds else []
    if kinds & {"feedback", "user_report"}:
        categories.append("feedback")
    if "check_in" in kinds:  # cron monitors' check-ins
        categories.append("monitor")
    if "attachment" in kinds:  # attachments sent on their own
        categories.append("attachment")
    return tuple(categories)


def accept(events: list[SpooledEvent], key: KeyInfo) -> Accepted:
    """Spool as many of the events as the rate limits let through (each event, feedback and user
    report is charged; the first ones are kept; sessions and client reports are not charged and
    always kept); say what became of them. Attachments of events not written are removed."""
    if not events:
        return Accepted(0)
    written = 0
    kept: list[SpooledEvent] = []
    free = [e for e in events if e.kind in OPTIONAL_KINDS]
    if free:
        events = [e for e in events if e.kind not in OPTIONAL_KINDS] + free
    try:
        check_backpressure()
        charge = ratelimit.check_and_count(key, len(events) - len(free))
        kept = events[: charge.allowed] + free
        refused = events[charge.allowed : len(events) - len(free)]
        if kept:
            spool = get_spool()
            for event in kept:
                spool.write(event)
                written += 1
            _backlog_checked[1] += len(kept)
            try:
                wake_drain()
            except Exception:
                # The events are durable already: the SDK gets its 200, or it would send them
                # twice. The next event's wake-up, or the sweep, starts the drain instead.
                logger.exception(
                    "events spooled, but enqueueing the drain failed; the sweep drains them"
                )
                arm_sweep()
            else:
                arm_sweep_now_and_then()
    finally:
        # Every event not written gives its attachments' files back: the refused ones too, which
        # sit before the free ones in `events` (`kept` is not a prefix of it).
        spooled = {id(e) for e in kept[:written]}
        for event in events:
            if event.attachments and id(event) not in spooled:
                discard_attachments(event.attachments)
    if refused:
        logger.info(
            "rate limit (%s) of project %s: %d of %d events dropped",
            charge.limited.scope if charge.limited else "?",
            key.project_id,
            len(refused),
            len(events),
        )
    return Accepted(len(kept), charge.limited, _categories(refused) if refused else ())
