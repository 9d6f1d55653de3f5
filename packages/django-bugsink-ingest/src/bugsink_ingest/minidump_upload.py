"""Minidump uploads (POST /api/<project>/minidump/): a multipart form from sentry-native,
Crashpad, Breakpad or Electron becomes one event with the minidump as its attachment.

The form: the minidump in `upload_file_minidump`; event data in a `sentry` field (a JSON
event) and/or `sentry[key]=value` fields (brackets nest: `sentry[tags][os]=linux`); any other
plain field is a Crashpad annotation (`prod`, `ver`, `_productName`, ...), kept under the event's
`extra`; any other file is attached to the event too. The minidump itself is read in the digest,
not here: ingest only streams it to the spool.
"""

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bugsink_ingest.envelope import parse_json_object
from bugsink_ingest.errors import BadRequest, TooLarge
from bugsink_ingest.handoff import wants_attachments
from bugsink_ingest.intake import (
    MINIDUMP_TYPE,
    discard_attachments,
    normal_event_id,
    spool_attachment,
)
from bugsink_ingest.multipart import Part
from bugsink_ingest.spool import SpooledAttachment, SpooledEvent, new_spool_id

MINIDUMP_FIELD = "upload_file_minidump"
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
MAX_NESTING = 8


class _Capped:
    """A part's body, TooLarge past `cap` bytes (checked as it streams)."""

    def __init__(self, body: Iterator[bytes], cap: int, what: str, setting: str):
        self.body, self.cap, self.what, self.setting, self.size = body, cap, what, setting, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.size += len(chunk)
            if self.size > self.cap:
                raise TooLarge(
                    f"{self.what} is over {self.cap} bytes (BUGSINK_INGEST_{self.setting}); "
                    "nothing was stored"
                )
            yield chunk


def _bracket_keys(name: str) -> list[str]:
    """sentry[a][b] -> ["a", "b"]; BadRequest for any other shape."""
    rest = name[len("sentry") :]
    keys = _BRACKETS.findall(rest)
    if not keys or _BRACKETS.sub("", rest) or len(keys) > MAX_NESTING or not all(keys):
        raise BadRequest(f"form field {name[:100]!r} is not of the form sentry[key][key]...")
    return keys


def _set_nested(event: dict[str, Any], keys: list[str], value: str) -> None:
    """event[a][b] = value (a key the JSON field set as a non-object is replaced)."""
    target = event
    for key in keys[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = target[key] = {}
        target = child
    target[keys[-1]] = value


def event_from_upload(
    parts: Iterator[Part],
    project_id: int,
    *,
    max_fields: int,
    max_attachment: int,
    sentry_client: str = "",
) -> SpooledEvent:
    """One event from the form's parts; its files are in the spool (removed again if this
    raises). BadRequest without a minidump; TooLarge for a file over max_attachment bytes or
    fields over max_fields bytes together."""
    attachments: list[SpooledAttachment] = []
    keep_files = wants_attachments()
    base: dict[str, Any] = {}
    bracketed: list[tuple[list[str], str]] = []
    annotations: dict[str, str] = {}
    field_bytes, minidump = 0, None
    try:
        for part in parts:
            if part.name == MINIDUMP_FIELD or part.filename is not None:
                is_minidump = part.name == MINIDUMP_FIELD and minidump is None
                what = f"the file {part.name!r}" if not is_minidump else MINIDUMP_FIELD
                body = _Capped(part.body, max_attachment, what, "MAX_ATTACHMENT_SIZE")
                headers = {
                    "filename": part.filename or part.name,
                    "content_type": part.content_type,
                    "attachment_type": MINIDUMP_TYPE if is_minidump else "event.attachment",
                }
                if keep_files:
                    spooled = spool_attachment(headers, iter(body))
                    attachments.append(spooled)
                    size = spooled.size
                else:
                    size = sum(len(chunk) for chunk in body)
                if is_minidump:
                    if size == 0:
                        raise BadRequest(f"{MINIDUMP_FIELD} is empty")
                    minidump = size
                continue
            value = b"".join(
                _Capped(part.body, max_fields - field_bytes, "the form's fields", "MAX_EVENT_SIZE")
            )
            field_bytes += len(value)
            text = value.decode("utf-8", "replace")
            if part.name == "sentry":
                base = parse_json_object(value, "the sentry form field")
            elif part.name.startswith("sentry["):
                bracketed.append((_bracket_keys(part.name), text))
            elif len(annotations) < 200:
                annotations[part.name] = text
        if minidump is None:
            raise BadRequest(f"no minidump: the form has no {MINIDUMP_FIELD} file")
        for keys, text in bracketed:  # after the JSON field, whatever the order they came in
            _set_nested(base, keys, text)
    except BaseException:
        discard_attachments(attachments)
        raise
    event_id = normal_event_id(base.get("event_id")) or uuid.uuid4().hex
    base["event_id"] = event_id
    base.setdefault("platform", "native")
    base.setdefault("level", "fatal")
    if annotations:
        extra = base.get("extra")
        base["extra"] = {**annotations, **(extra if isinstance(extra, dict) else {})}
    payload = json.dumps(base).encode()  # ASCII: a lone surrogate the JSON field had stays escaped
    return SpooledEvent(
        spool_id=new_spool_id(),
        project_id=project_id,
        event_id=event_id,
        received_at=datetime.now(UTC),
        payload=payload,
        attachments=tuple(attachments),
        sentry_client=sentry_client,
    )
