"""Turn any payload an SDK sends into one shape, with field caps, recording what had to be fixed.

Never raises on a payload: a part that cannot be understood is dropped from the normalised shape and
named in `problems` (the raw part is kept under "_broken" when small), so nothing vanishes silently.
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from bugsink_issues.conf import app_settings

LEVEL_NAMES = {
    "debug": "debug",
    "trace": "debug",
    "info": "info",
    "log": "info",
    "warning": "warning",
    "warn": "warning",
    "error": "error",
    "fatal": "fatal",
    "critical": "fatal",
}
MAX_PROBLEMS = 50
MAX_BROKEN_BYTES = 2048
MAX_SAFE_INT = 2**53
# Allow a little clock skew before a future timestamp is replaced by the time of receipt.
MAX_FUTURE_SKEW = timedelta(minutes=5)


class Caps(NamedTuple):
    """The field caps of the capping walk, read from the settings once per event."""

    string_length: int
    depth: int
    list_items: int

    @classmethod
    def from_settings(cls) -> "Caps":
        return cls(
            app_settings.MAX_STRING_LENGTH, app_settings.MAX_DEPTH, app_settings.MAX_LIST_ITEMS
        )


@dataclass
class Normalized:
    data: dict
    timestamp: datetime
    problems: list = field(default_factory=list)

    def flag(self, path, problem, raw=None):
        if len(self.problems) < MAX_PROBLEMS:
            entry = {"path": clean_text(path)[:300], "problem": clean_text(problem)}
            if raw is not None:
                entry["raw"] = clean_text(_short_repr(raw))
            self.problems.append(entry)


def _short_repr(value):
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text[:MAX_BROKEN_BYTES]


def clean_text(text):
    """Text any database column takes: no NUL (PostgreSQL refuses it), no lone surrogates (JSON
    allows "\\ud800", UTF-8 does not)."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def parse_payload(payload: bytes):
    """JSON bytes -> object, or (None, problem) when it is not JSON.

    orjson first (several times faster); json for what orjson refuses but SDKs may send
    (NaN/Infinity, integers beyond 64 bits, escaped lone surrogates)."""
    try:
        return orjson.loads(payload), None
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(payload), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"payload is not valid JSON: {exc}"[:300]
    except RecursionError:
        # Valid JSON nested deeper than any SDK sends (orjson stops at 1024 levels): keep it as
        # text rather than fail the whole batch on every retry.
        return None, "payload nests too deeply to be parsed; stored as text"


# An escaped NUL, or any `\\ud...` escape (the surrogates among them; erring safe): one regex pass
# over the bytes, where three `in` tests of a 50 KB payload took 99 us (the regex 15).
_DATABASE_UNSAFE_ESCAPE = re.compile(rb"\\u(?:0000|[dD])")


def needs_full_walk(payload: bytes, raw=None) -> bool:
    """Does the parsed payload `raw` need the capping walk (a copy of every node)? Escaped NUL
    and surrogates (which databases refuse) always do. Small payloads do not (the walk's cost
    dominates small events): below the string cap no string can be too long, and the size bounds
    everything else. A larger one does only if `exceeds_caps` finds a node the walk would change,
    which costs a fraction of the walk for the large events within their caps, nearly all."""
    if _DATABASE_UNSAFE_ESCAPE.search(payload):
        return True
    if len(payload) <= app_settings.MAX_STRING_LENGTH:
        return False
    return raw is None or exceeds_caps(raw, Caps.from_settings())


def exceeds_caps(value, caps: Caps) -> bool:
    """Would `_cap` change anything (beyond the text cleaning that needs_full_walk's byte checks
    decide)? The same rules, checked without copying or building paths: a string or key too long,
    a list too long, a container nested too deep, an integer beyond what JSON readers keep exact,
    a value no JSON parser makes."""
    string_length, max_depth, list_items = caps
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        items: Iterable[Any]
        if isinstance(node, dict):
            items = node.values()
            if node and max(map(len, node)) > 256:  # the walk cuts keys silently
                return True
        elif isinstance(node, list):
            if len(node) > list_items:
                return True
            items = node
        else:
            items = (node,)
            depth -= 1  # the root itself as a scalar
        for item in items:
            kind = type(item)
            if kind is str:
                if len(item) > string_length:
                    return True
            elif kind is dict or kind is list:
                if depth + 1 >= max_depth:
                    return True
                stack.append((item, depth + 1))
            elif kind is int:
                if not -MAX_SAFE_INT < item < MAX_SAFE_INT:
                    return True
            elif not (kind is float or kind is bool or item is None):
                return True
    return False


def normalize_event(raw, *, event_id: str, received_at: datetime, walk=True) -> Normalized:
    """Normalise a parsed payload. `walk=False` (see needs_full_walk) skips the capping copy; the
    payload is then normalised in place."""
    result = Normalized(data={}, timestamp=received_at)
    if not isinstance(raw, dict):
        result.flag("", "payload is not a JSON object", raw)
        raw = {}
    data = _cap(raw, "", result, 0, Caps.from_settings()) if walk else raw
    if not isinstance(data, dict):
        data = {}
    result.data = data
    data["event_id"] = event_id
    result.timestamp = _timestamp(data.get("timestamp"), received_at, result)
    data["timestamp"] = result.timestamp.timestamp()
    data["level"] = normalize_level(data.get("level"), result)
    for name in ("exception", "threads", "breadcrumbs"):
        if name in data:
            _values_interface(data, name, result)
    for value in _exception_values(data):
        _exception(value, result)
        _stacktrace(value, "exception", result)
    for value in (data.get("threads") or {}).get("values", []):
        _stacktrace(value, "threads", result)
    if "stacktrace" in data:
        _stacktrace(data, "", result)
    _message(data, result)
    _tags(data, result)
    _user(data, result)
    _request(data, result)
    _fingerprint(data, result)
    for name in ("release", "environment", "server_name", "transaction", "platform", "logger"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            data[name] = _scalar_text(value)
    if result.problems:
        data["_problems"] = result.problems
    return result


def _exception_values(data):
    return (data.get("exception") or {}).get("values", [])


def _cap(value, path, result, depth, caps):
    """Copy with caps: long strings cut, long lists cut, deep nesting cut, huge ints to text."""
    if isinstance(value, str):
        cleaned = clean_text(value)
        if cleaned is not value:
            result.flag(path, "NUL or invalid characters replaced")
            value = cleaned
        if len(value) > caps.string_length:
            result.flag(path, f"string cut from {len(value)} characters")
            return value[: caps.string_length] + "…"
        return value
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if -MAX_SAFE_INT < value < MAX_SAFE_INT else str(value)
    if depth >= caps.depth:
        result.flag(path, "nested too deeply; cut")
        return "<cut: nested too deeply>"
    if isinstance(value, dict):
        return {
            clean_text(str(key)[:256]): _cap(
                item, f"{path}.{key}" if path else str(key), result, depth + 1, caps
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        limit = caps.list_items
        if len(value) > limit:
            result.flag(path, f"list cut from {len(value)} items")
            # Keep the end: the newest breadcrumbs and the innermost frames matter most.
            value = value[-limit:]
        return [_cap(item, f"{path}[{i}]", result, depth + 1, caps) for i, item in enumerate(value)]
    return str(value)


def _timestamp(value, received_at, result):
    parsed = None
    try:
        if isinstance(value, bool):
            parsed = None
        elif isinstance(value, int | float):
            parsed = datetime.fromtimestamp(value, tz=UTC)
        elif isinstance(value, str) and value:
            text = value.strip()
            if re.fullmatch(r"-?\d+(\.\d+)?", text):
                parsed = datetime.fromtimestamp(float(text), tz=UTC)
            else:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        parsed = None
    if parsed is None:
        if value is not None:
            result.flag("timestamp", "unreadable timestamp; time of receipt used", value)
        return received_at
    if parsed > received_at + MAX_FUTURE_SKEW:
        result.flag("timestamp", "timestamp in the future; time of receipt used", value)
        return received_at
    if parsed.year < 2000:
        result.flag("timestamp", "timestamp before 2000; time of receipt used", value)
        return received_at
    return parsed.astimezone(UTC)


def normalize_level(value, result=None):
    if value is None:
        return "error"
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Python logging numbers.
        if value >= 50:
            return "fatal"
        if value >= 40:
            return "error"
        if value >= 30:
            return "warning"
        if value >= 20:
            return "info"
        return "debug"
    level = LEVEL_NAMES.get(str(value).strip().lower())
    if level is None:
        if result is not None:
            result.flag("level", "unknown level; error used", value)
        return "error"
    return level


def _values_interface(data, name, result):
    """`{"values": [...]}` or a bare list -> `{"values": [dicts]}`; other entries flagged."""
    value = data[name]
    if isinstance(value, list):
        values = value
    elif isinstance(value, dict) and isinstance(value.get("values"), list):
        values = value["values"]
    elif isinstance(value, dict) and name == "exception" and ("type" in value or "value" in value):
        values = [value]  # a single exception object without the wrapper
    elif value is None or value == {}:
        values = []
    else:
        result.flag(name, "not a list or {values: [...]}; dropped", value)
        data.setdefault("_broken", {})[name] = _short_repr(value)
        values = []
    clean = []
    for i, item in enumerate(values):
        if isinstance(item, dict):
            clean.append(item)
        elif item is not None:
            result.flag(f"{name}.values[{i}]", "not an object; dropped", item)
    if name == "breadcrumbs":
        limit = app_settings.MAX_BREADCRUMBS
        if len(clean) > limit:
            result.flag(name, f"{len(clean)} breadcrumbs; kept the last {limit}")
            clean = clean[-limit:]
    data[name] = {"values": clean}


def _exception(value, result):
    for key in ("type", "value", "module"):
        if value.get(key) is not None and not isinstance(value[key], str):
            value[key] = _scalar_text(value[key])
    mechanism = value.get("mechanism")
    if mechanism is None:
        return
    if not isinstance(mechanism, dict):
        result.flag("exception.mechanism", "not an object; dropped", mechanism)
        value.pop("mechanism")
        return
    for key in ("exception_id", "parent_id"):
        if key in mechanism and not (
            mechanism[key] is None
            or (isinstance(mechanism[key], int) and not isinstance(mechanism[key], bool))
        ):
            result.flag(f"exception.mechanism.{key}", "not an integer; dropped", mechanism[key])
            mechanism.pop(key)
    for key in ("synthetic", "handled", "is_exception_group"):
        if key in mechanism and mechanism[key] is not None and not isinstance(mechanism[key], bool):
            mechanism[key] = bool(mechanism[key])
    if mechanism.get("type") is not None and not isinstance(mechanism["type"], str):
        mechanism["type"] = _scalar_text(mechanism["type"])


def _stacktrace(owner, where, result):
    stacktrace = owner.get("stacktrace")
    if stacktrace is None:
        return
    if isinstance(stacktrace, list):
        stacktrace = {"frames": stacktrace}
    if not isinstance(stacktrace, dict):
        result.flag(f"{where}.stacktrace", "not an object; dropped", stacktrace)
        owner["stacktrace"] = {"frames": []}
        return
    frames = stacktrace.get("frames")
    if not isinstance(frames, list):
        if frames is not None:
            result.flag(f"{where}.stacktrace.frames", "not a list; dropped", frames)
        frames = []
    clean = [frame for frame in frames if isinstance(frame, dict)]
    if len(clean) != len(frames):
        result.flag(
            f"{where}.stacktrace.frames", f"{len(frames) - len(clean)} empty frames dropped"
        )
    limit = app_settings.MAX_FRAMES
    if len(clean) > limit:
        # Keep both ends: the entry point and the crash site.
        result.flag(f"{where}.stacktrace.frames", f"{len(clean)} frames; the middle was cut")
        clean = clean[: limit // 2] + clean[-(limit - limit // 2) :]
    for frame in clean:
        for key in ("lineno", "colno"):
            if key in frame and not isinstance(frame[key], int):
                try:
                    frame[key] = int(frame[key])
                except (TypeError, ValueError):
                    frame.pop(key)
        for key in ("function", "module", "filename", "abs_path", "package"):
            if key in frame and frame[key] is not None and not isinstance(frame[key], str):
                frame[key] = _scalar_text(frame[key])
        if "in_app" in frame and not isinstance(frame["in_app"], bool | None):
            frame["in_app"] = frame["in_app"] in (1, "true", "True", "1")
    stacktrace["frames"] = clean
    owner["stacktrace"] = stacktrace


def _message(data, result):
    """message/logentry variants -> `logentry` {message, params, formatted}."""
    logentry = data.get("logentry")
    message = data.get("message")
    if not isinstance(logentry, dict):
        if logentry is not None:
            result.flag("logentry", "not an object; used as text", logentry)
        logentry = {"formatted": _scalar_text(logentry)} if logentry is not None else None
    if isinstance(message, dict):
        logentry = logentry or message
        data.pop("message")
    elif message is not None and message != "":
        text = message if isinstance(message, str) else _scalar_text(message)
        if logentry is None:
            logentry = {"formatted": text}
        data["message"] = text
    if logentry is None:
        return
    template = logentry.get("message")
    formatted = logentry.get("formatted")
    params = logentry.get("params")
    if template is not None and not isinstance(template, str):
        template = _scalar_text(template)
    if formatted is not None and not isinstance(formatted, str):
        formatted = _scalar_text(formatted)
    if not formatted and template:
        formatted = _format_template(template, params)
    clean = {"formatted": formatted or template or ""}
    if template:
        clean["message"] = template
    if params is not None:
        clean["params"] = params
    data["logentry"] = clean


def _format_template(template, params):
    try:
        if isinstance(params, list):
            return template % tuple(params)
        if isinstance(params, dict):
            return template % params
    except (TypeError, ValueError, KeyError):
        pass
    return template


def _tags(data, result):
    tags = data.get("tags")
    if tags is None:
        return
    pairs = []
    if isinstance(tags, dict):
        pairs = list(tags.items())
    elif isinstance(tags, list):
        for item in tags:
            if isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                result.flag("tags", "tag is not a [key, value] pair; dropped", item)
    else:
        result.flag("tags", "not a dict or list of pairs; dropped", tags)
    clean = {}
    for key, value in pairs:
        if key is None or value is None:
            continue
        clean[_scalar_text(key)[:64]] = _scalar_text(value)[:200]
    data["tags"] = clean


def _user(data, result):
    user = data.get("user")
    if user is None:
        return
    if not isinstance(user, dict):
        result.flag("user", "not an object; kept as id", user)
        data["user"] = {"id": _scalar_text(user)}
        return
    for key in ("id", "username", "email", "ip_address", "name"):
        if key in user and user[key] is not None and not isinstance(user[key], str):
            user[key] = _scalar_text(user[key])


def _request(data, result):
    request = data.get("request")
    if request is None:
        return
    if not isinstance(request, dict):
        result.flag("request", "not an object; dropped", request)
        data.pop("request")
        return
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = [[str(k), _scalar_text(v)] for k, v in headers.items()]
    elif isinstance(headers, list):
        clean = []
        for item in headers:
            if isinstance(item, list | tuple) and len(item) == 2:
                clean.append([_scalar_text(item[0]), _scalar_text(item[1])])
        request["headers"] = clean
    elif headers is not None:
        result.flag("request.headers", "not a dict or list of pairs; dropped", headers)
        request.pop("headers")
    if "url" in request and not isinstance(request["url"], str):
        request["url"] = _scalar_text(request["url"])


def _fingerprint(data, result):
    fingerprint = data.get("fingerprint")
    if fingerprint is None:
        return
    if isinstance(fingerprint, str):
        fingerprint = [fingerprint]
    if not isinstance(fingerprint, list):
        result.flag("fingerprint", "not a list; ignored", fingerprint)
        data.pop("fingerprint")
        return
    data["fingerprint"] = [_scalar_text(part) for part in fingerprint if part is not None]


def _scalar_text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) or value is None:
        return str(value)
    return _short_repr(value)
