"""The CPU work of the digest, done before the write transaction starts: parse, normalise, scrub,
group, summarise, derive tags and compress one spooled event."""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bugsink_issues.digest import storage
from bugsink_issues.digest.grouping import GroupingResult, grouping_for
from bugsink_issues.digest.minidumps import apply_minidump, minidump_of
from bugsink_issues.digest.normalize import (
    Normalized,
    clean_text,
    needs_full_walk,
    normalize_event,
    parse_payload,
)
from bugsink_issues.digest.sourcemaps import apply_source_maps
from bugsink_issues.digest.summary import culprit_for, title_for, user_label
from bugsink_issues.digest.tags import derive_tags
from bugsink_issues.scrubbing import DEFAULT_CONFIG, ScrubbingConfig, scrub_event

if TYPE_CHECKING:
    from bugsink_ingest.spool import SpooledEvent

logger = logging.getLogger(__name__)


@dataclass
class PreparedEvent:
    spooled: "SpooledEvent"
    normalized: Normalized
    grouping: GroupingResult
    title: str
    culprit: str
    tags: list
    payload: bytes
    payload_size: int
    dict_id: int

    @property
    def data(self):
        return self.normalized.data

    def field(self, name, limit):
        value = self.data.get(name)
        return str(value)[:limit] if value not in (None, "") else ""


def prepare_event(
    spooled, grouping_version, scrubbing: ScrubbingConfig = DEFAULT_CONFIG
) -> PreparedEvent:
    try:
        return _prepare(spooled, grouping_version, scrubbing)
    except Exception as exc:  # a bug of ours must not make a payload undigestable forever
        logger.exception("bugsink_issues: could not normalise event %s", spooled.event_id)
        return _prepare(
            spooled, grouping_version, scrubbing, failure=f"{type(exc).__name__}: {exc}"
        )


def _prepare(
    spooled, grouping_version, scrubbing: ScrubbingConfig = DEFAULT_CONFIG, failure=None
) -> PreparedEvent:
    raw, problem = parse_payload(spooled.payload)
    if failure:
        problem = clean_text(f"could not be normalised ({failure[:200]}); stored as text")
    if problem:
        # Keep the bytes as text so the event can still be shown and searched.
        normalized = Normalized(
            data={
                "event_id": spooled.event_id,
                "_unparseable": spooled.payload.decode("utf-8", "replace"),
                "level": "error",
            },
            timestamp=spooled.received_at,
            problems=[{"path": "", "problem": problem}],
        )
        normalized.data["_problems"] = normalized.problems
        normalized.data["timestamp"] = spooled.received_at.timestamp()
    else:
        normalized = normalize_event(
            raw,
            event_id=spooled.event_id,
            received_at=spooled.received_at,
            walk=needs_full_walk(spooled.payload, raw),
        )
        # Before grouping: issues group by the original frames, not by one build's.
        apply_source_maps(normalized.data, spooled.project_id)
        # A native crash: its title, frame and contexts come from the minidump, if readable.
        if minidump_of(spooled) is not None:
            apply_minidump(normalized.data, spooled, normalized.flag)
            if normalized.problems:
                normalized.data["_problems"] = normalized.problems
    data = normalized.data
    _sdk_from_client(data, getattr(spooled, "sentry_client", ""))
    # Before anything is derived from the event (key, title, tags) or stored.
    try:
        scrub_event(data, scrubbing)
    except Exception:
        if failure is None:
            raise  # prepare_event stores the payload as text, scrubbed as text
        # Unscrubbed text is never stored: the event keeps only that it came.
        data["_unparseable"] = "(the payload was not kept: it could not be scrubbed)"
    raw_json = storage.dump_json(data)
    blob, dict_id = storage.compress(raw_json)
    return PreparedEvent(
        spooled=spooled,
        normalized=normalized,
        grouping=grouping_for(data, grouping_version),
        title=title_for(data),
        culprit=culprit_for(data),
        tags=derive_tags(data),
        payload=blob,
        payload_size=len(raw_json),
        dict_id=dict_id,
    )


def _sdk_from_client(data, sentry_client):
    """Old SDKs (raven-js, raven-node, raven-go, Python's raven) send no `sdk` and name themselves
    only in the request's sentry_client ("raven-js/3.27.2")."""
    sdk = data.get("sdk") if isinstance(data.get("sdk"), dict) else {}
    if sentry_client and not sdk.get("name"):
        name, _, version = sentry_client.partition("/")
        data["sdk"] = {**sdk, "name": name.strip()[:100], "version": version.strip()[:50]}


def event_columns(prepared):
    """The list columns of an Event row."""
    data = prepared.data
    sdk = data.get("sdk") if isinstance(data.get("sdk"), dict) else {}
    return {
        "title": prepared.title,
        "culprit": prepared.culprit,
        "level": data.get("level") or "error",
        "platform": prepared.field("platform", 64),
        "release": prepared.field("release", 250),
        "environment": prepared.field("environment", 64),
        "server_name": prepared.field("server_name", 255),
        "transaction": prepared.field("transaction", 200),
        "user_label": user_label(data.get("user")),
        "sdk_name": str(sdk.get("name") or "")[:100],
        "sdk_version": str(sdk.get("version") or "")[:50],
    }
