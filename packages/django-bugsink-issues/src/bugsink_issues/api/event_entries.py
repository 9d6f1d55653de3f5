"""A stored event as Sentry's API shows it: the list item and the detail with its `entries`.

The payload is the digest's normalised JSON; frames go through the UI's own frame rendering
(ui.rendering.frame_view, without highlighting) so the API and the issue page show the same
source lines and clip the same way. Payload values are untrusted: only JSON leaves here.
"""

from datetime import UTC, datetime
from urllib.parse import parse_qsl

from bugsink_issues.api.schemas.issues import release_summary
from bugsink_issues.digest.exceptions import main_exceptions
from bugsink_issues.digest.tags import derive_tags
from bugsink_issues.ui.rendering import as_text, frame_view, message_of, pairs

__all__ = ["entries_of", "event_detail", "event_list_item", "event_tags", "event_user"]

MAX_TEXT = 16_384


def _list(value):
    if isinstance(value, dict):
        value = value.get("values")
    return value if isinstance(value, list) else []


def _text(value, limit=300):
    return as_text(value, limit) if value not in (None, "") else None


def _dict(value):
    return value if isinstance(value, dict) else None


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _moment(value):
    """A payload timestamp (unix seconds or ISO 8601) as an aware datetime, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _frame(frame, platform):
    view = frame_view(frame, platform, highlight=False)
    if view is None:
        return None
    variables = frame.get("vars")
    return {
        "filename": view["filename"],
        "absPath": _text(frame.get("abs_path")),
        "module": view["module"] or None,
        "package": view["package"] or None,
        "platform": _text(frame.get("platform"), 64),
        "function": view["function"],
        "rawFunction": _text(frame.get("raw_function")),
        "symbol": _text(frame.get("symbol")),
        "instructionAddr": _text(frame.get("instruction_addr"), 40),
        "symbolAddr": _text(frame.get("symbol_addr"), 40),
        "lineNo": view["lineno"],
        "colNo": view["colno"],
        "inApp": view["in_app"],
        "context": [(line["number"], line["text"]) for line in view["source"]],
        "vars": variables if isinstance(variables, dict) else None,
        "trust": _text(frame.get("trust"), 40),
        "errors": None,
    }


def _stacktrace(stacktrace, platform):
    if not isinstance(stacktrace, dict):
        return None
    frames = [_frame(f, platform) for f in _list(stacktrace.get("frames")) if isinstance(f, dict)]
    frames = [f for f in frames if f is not None]
    omitted = stacktrace.get("frames_omitted")
    return {
        "frames": frames,
        "framesOmitted": omitted if isinstance(omitted, list) else None,
        "registers": _dict(stacktrace.get("registers")),
        "hasSystemFrames": any(not f["inApp"] for f in frames) and any(f["inApp"] for f in frames),
    }


def _exception_entry(data, platform):
    values = []
    for exc in _list(data.get("exception")):
        if not isinstance(exc, dict):
            continue
        values.append(
            {
                "type": _text(exc.get("type")),
                "value": _text(exc.get("value"), MAX_TEXT),
                "module": _text(exc.get("module")),
                "mechanism": _dict(exc.get("mechanism")),
                "threadId": exc.get("thread_id")
                if isinstance(exc.get("thread_id"), (int, str))
                else None,
                "stacktrace": _stacktrace(exc.get("stacktrace"), platform),
                "rawStacktrace": None,
            }
        )
    if not values:
        return None
    has_system = any((v["stacktrace"] or {}).get("hasSystemFrames") for v in values)
    return {
        "type": "exception",
        "data": {"values": values, "excOmitted": None, "hasSystemFrames": has_system},
    }


def _threads_entry(data, platform):
    values = []
    for thread in _list(data.get("threads")):
        if not isinstance(thread, dict):
            continue
        thread_id = thread.get("id")
        values.append(
            {
                "id": thread_id if isinstance(thread_id, (int, str)) else None,
                "name": _text(thread.get("name")),
                "crashed": thread.get("crashed") is True,
                "current": thread.get("current") is True,
                "stacktrace": _stacktrace(thread.get("stacktrace"), platform),
                "rawStacktrace": None,
            }
        )
    return {"type": "threads", "data": {"values": values}} if values else None


def _message_entry(data):
    text = message_of(data)
    if not text:
        return None
    logentry = data.get("logentry") if isinstance(data.get("logentry"), dict) else {}
    params = logentry.get("params")
    return {
        "type": "message",
        "data": {
            "formatted": text,
            "message": _text(logentry.get("message"), MAX_TEXT),
            "params": params if isinstance(params, (list, dict)) else None,
        },
    }


def _breadcrumbs_entry(data):
    values = []
    for crumb in _list(data.get("breadcrumbs")):
        if not isinstance(crumb, dict):
            continue
        values.append(
            {
                "type": _text(crumb.get("type"), 64) or "default",
                "category": _text(crumb.get("category"), 200),
                "level": _text(crumb.get("level"), 20) or "info",
                "message": _text(crumb.get("message"), MAX_TEXT),
                "data": _dict(crumb.get("data")),
                "timestamp": _moment(crumb.get("timestamp")),
                "event_id": _text(crumb.get("event_id"), 64),
            }
        )
    return {"type": "breadcrumbs", "data": {"values": values}} if values else None


def _query_pairs(value):
    if isinstance(value, str):
        return parse_qsl(value.lstrip("?"), keep_blank_values=True)[:500]
    return pairs(value)


def _request_entry(data):
    request = data.get("request")
    if not isinstance(request, dict):
        return None
    headers = pairs(request.get("headers"))
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    body = request.get("data")
    return {
        "type": "request",
        "data": {
            "url": _text(request.get("url"), 2000),
            "method": _text(request.get("method"), 20),
            "query": _query_pairs(request.get("query_string")),
            "fragment": _text(request.get("fragment"), 2000),
            "data": body if isinstance(body, (dict, list, str, int, float, bool)) else None,
            "headers": headers,
            "cookies": _query_pairs(request.get("cookies")),
            "env": _dict(request.get("env")),
            "inferredContentType": content_type,
            "apiTarget": None,
        },
    }


def entries_of(data):
    """Sentry's entries of a payload: exception (or a bare stacktrace), threads, message,
    breadcrumbs, request, in the order Sentry's event page shows them."""
    platform = data.get("platform") if isinstance(data.get("platform"), str) else ""
    entries = [_exception_entry(data, platform)]
    if entries[0] is None and isinstance(data.get("stacktrace"), dict):
        entries.append({"type": "stacktrace", "data": _stacktrace(data["stacktrace"], platform)})
    entries += [
        _threads_entry(data, platform),
        _message_entry(data),
        _breadcrumbs_entry(data),
        _request_entry(data),
    ]
    return [entry for entry in entries if entry is not None]


def event_tags(data):
    return [{"key": key, "value": value} for key, value in sorted(derive_tags(data))]


def event_user(data):
    user = data.get("user")
    if not isinstance(user, dict) or not user:
        return None
    extra = {
        k: v for k, v in user.items() if k not in ("id", "email", "username", "ip_address", "name")
    }
    return {
        "id": _text(user.get("id"), 200),
        "email": _text(user.get("email"), 200),
        "username": _text(user.get("username"), 200),
        "ip_address": _text(user.get("ip_address"), 64),
        "name": _text(user.get("name"), 200),
        "data": extra or None,
    }


def _location(data):
    main, _ = main_exceptions(data)
    frames = _list((main or {}).get("stacktrace", {}).get("frames")) if main else []
    for frame in reversed(frames):
        if isinstance(frame, dict) and frame.get("in_app") is True:
            return _text(frame.get("filename") or frame.get("abs_path"))
    return None


def event_list_item(event, data):
    """An event list item; `data` is its loaded payload."""
    return {
        "id": event.event_id,
        "eventID": event.event_id,
        "groupID": str(event.issue_id) if event.issue_id else None,
        "projectID": str(event.project_id),
        "title": event.title,
        "message": message_of(data),
        "culprit": event.culprit,
        "location": _location(data),
        "platform": event.platform or None,
        "dateCreated": event.timestamp,
        "event.type": "error" if _list(data.get("exception")) else "default",
        "tags": event_tags(data),
        "user": event_user(data),
        "crashFile": None,
    }


def _errors(event):
    return [
        {
            "type": "invalid_data",
            "message": as_text(problem.get("problem", ""), 500),
            "data": {"name": as_text(problem.get("path", ""), 200)},
        }
        for problem in event.problems or []
        if isinstance(problem, dict)
    ]


def _metadata(data, event):
    main, _ = main_exceptions(data)
    if main is None:
        return {"title": event.title}
    return {
        "type": _text(main.get("type")),
        "value": _text(main.get("value"), 1000),
        "filename": _location(data),
        "title": event.title,
    }


def event_detail(event, data, *, release=None, previous_id=None, next_id=None, feedback=None):
    """The detail answer of an event; `data` is its loaded payload, `release` its Release row."""
    sdk = data.get("sdk") if isinstance(data.get("sdk"), dict) else None
    modules = data.get("modules")
    extra = data.get("extra")
    return {
        **event_list_item(event, data),
        "type": "error" if _list(data.get("exception")) else "default",
        "dateReceived": event.received_at,
        "dist": _text(data.get("dist"), 64),
        "release": release_summary(release),
        "environment": event.environment or None,
        "contexts": data.get("contexts") if isinstance(data.get("contexts"), dict) else {},
        "context": extra if isinstance(extra, dict) else {},
        "sdk": {"name": _text(sdk.get("name")), "version": _text(sdk.get("version"))}
        if sdk
        else None,
        "packages": modules if isinstance(modules, dict) else {},
        "entries": entries_of(data),
        "errors": _errors(event),
        "fingerprints": [event.grouping.key] if event.grouping_id and event.grouping else [],
        "metadata": _metadata(data, event),
        "size": event.payload_size,
        "userReport": feedback,
        "sdkUpdates": [],
        "nextEventID": next_id,
        "previousEventID": previous_id,
        "_meta": {},
    }
