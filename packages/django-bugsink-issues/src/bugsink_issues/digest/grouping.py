"""The grouping key: which events are one issue.

Version 1, in order: the SDK's `fingerprint` (with `{{ default }}` and variables); else the main
exception's type plus its in-app frames (module or file, and function; never line numbers); without
usable frames, the type plus the value with variable parts replaced; without an exception, the
message template, normalised the same way. The key's parts are returned so the UI can explain it.

Version 2 is version 1 with two changes to the frames (frames.py): an in-app frame that has a
source line (`context_line`, whitespace-normalised, not too long) adds it to its parts, so two
raise sites in one function are two issues while code moved by an edit above it stays one; and the
SDK's own frames (its wrappers) never count.

New versions go in VERSIONS; a project keeps its version until moved, and a moved project's events
still join the issues of its older keys (digest/consumer.py), so issues never split.
"""

import hashlib
import json
import re
from dataclasses import dataclass

from bugsink_issues.digest.exceptions import (
    is_message_wrapper,
    is_synthetic,
    main_exceptions,
    mechanism_type,
    top_frame,
)
from bugsink_issues.digest.frames import V1_FRAMES, FrameRules, frames_of, grouping_frames

LATEST_VERSION = 2
V2_FRAMES = FrameRules(context_lines=True, skip_sdk_frames=True)

_PLACEHOLDERS = [
    (re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s'\"<>]+", re.I), "<url>"),
    (re.compile(r"\b[\w.+\-]+@[\w\-]+(\.[\w\-]+)+\b"), "<email>"),
    (
        re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.I),
        "<uuid>",
    ),
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+\-]\d{2}:?\d{2})?)?"),
        "<date>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b"), "<time>"),
    (
        re.compile(
            r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\w* (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w*"
            r" \d{1,2}\b"
        ),
        "<date>",
    ),
    (re.compile(r"\b(\d{1,3}\.){3}\d{1,3}\b"), "<ip>"),
    (re.compile(r"\b([0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b", re.I), "<ip>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b", re.I), "<hash>"),
    (re.compile(r"(?<![\w<])-?\d+(\.\d+)?(?![\w>])"), "<int>"),
]
_VARIABLE = re.compile(r"^\{\{\s*([\w.\-]+)\s*\}\}$")


def normalize_text(text):
    """Replace the parts of a message that vary between occurrences with placeholders."""
    text = str(text or "")[:1000]
    for pattern, placeholder in _PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return text.strip()


@dataclass(frozen=True)
class GroupingResult:
    key: str
    version: int
    kind: str  # "fingerprint" | "exception" | "exception-value" | "message" | "fallback" | "broken"
    parts: list
    description: str

    def as_json(self):
        return {"kind": self.kind, "parts": self.parts, "description": self.description}


def grouping_for(data, version=LATEST_VERSION) -> GroupingResult:
    if version not in VERSIONS:
        version = LATEST_VERSION
    return VERSIONS[version](data)


def _hash(version, kind, parts):
    raw = json.dumps([version, kind, parts], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _grouping_v1(data):
    return _grouping(data, 1, V1_FRAMES)


def _grouping_v2(data):
    return _grouping(data, 2, V2_FRAMES)


def _grouping(data, version, frame_rules):
    default_kind, default_parts, description = _default(data, frame_rules)
    fingerprint = data.get("fingerprint")
    if fingerprint:
        parts = []
        for entry in fingerprint:
            match = _VARIABLE.match(entry)
            if match and match.group(1).lower() == "default":
                parts.append({"default": default_parts})
            elif match:
                parts.append(_variable(match.group(1), data))
            else:
                parts.append(entry)
        if parts != [{"default": default_parts}]:
            return GroupingResult(
                _hash(version, "fingerprint", parts),
                version,
                "fingerprint",
                parts,
                "the SDK's fingerprint: " + json.dumps(fingerprint, ensure_ascii=False)[:300],
            )
    return GroupingResult(
        _hash(version, default_kind, default_parts),
        version,
        default_kind,
        default_parts,
        description,
    )


def _default(data, frame_rules):
    if data.get("_unparseable"):
        return "broken", ["unparseable payload"], "the payload was not JSON: all such events"
    main, leaf_types = main_exceptions(data)
    if main is not None and not is_message_wrapper(main):
        exc_type = str(main.get("type") or mechanism_type(main) or "")
        frames = grouping_frames(frames_of(main), frame_rules)
        if is_synthetic(main) and frames:
            # The SDK made the type and value up (minidumps, non-Error throws): frames only.
            exc_type = "<synthetic>"
        extra = [{"group_of": leaf_types}] if leaf_types else []
        if frames:
            lines = sum(1 for frame in frames if len(frame) > 2)
            return (
                "exception",
                [exc_type, *extra, *frames],
                f"exception type {exc_type or '(none)'} and {len(frames)} stack frames"
                + (f" ({lines} with their source line)" if lines else ""),
            )
        value = normalize_text(main.get("value"))
        return (
            "exception-value",
            [exc_type, *extra, value],
            f"exception type {exc_type or '(none)'} and its message (no usable stack frames)",
        )
    template = message_template(data)
    if template or main is not None:
        if not template and main is not None:
            template = str(main.get("value") or "")
        return "message", [normalize_text(template)], "the message template"
    # Nothing to group on: group per logger/culprit/platform so unrelated junk stays apart.
    parts = [str(data.get(k) or "") for k in ("platform", "logger", "culprit", "transaction")]
    return "fallback", parts, "no exception or message: platform, logger, culprit"


def message_template(data):
    logentry = data.get("logentry") or {}
    return logentry.get("message") or logentry.get("formatted") or data.get("message") or ""


def _variable(name, data):
    lowered = name.lower()
    main, _ = main_exceptions(data)
    if lowered == "type":
        return str((main or {}).get("type") or "<no type>")
    if lowered == "value":
        return str((main or {}).get("value") or "<no value>")
    if lowered == "message":
        return (data.get("logentry") or {}).get("formatted") or data.get("message") or ""
    if lowered in ("transaction", "logger", "level", "platform", "release", "environment"):
        return str(data.get(lowered) or f"<no {lowered}>")
    if lowered in ("function", "module"):
        frame = top_frame(data) or {}
        return str(frame.get(lowered) or f"<no {lowered}>")
    if lowered.startswith("tags."):
        return str((data.get("tags") or {}).get(name[5:], f"<no {name}>"))
    return "{{ " + name + " }}"


VERSIONS = {1: _grouping_v1, 2: _grouping_v2}
