"""Turn a stored event payload into plain structures the templates show (no HTML here).

Payload values are untrusted: everything returned is plain data that the templates escape, except
the highlighted source lines, which come from highlight.py.
"""

import json
from datetime import UTC, datetime

from bugsink_issues.ui.chains import chain_links
from bugsink_issues.ui.highlight import highlight_lines

MAX_VAR_REPR = 2_000


def _list(value):
    if isinstance(value, dict):
        return value.get("values") or []
    return value if isinstance(value, list) else []


def as_text(value, limit=MAX_VAR_REPR):
    """A compact display string for any JSON value."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def pairs(value):
    """Key/value rows from a dict or a list of pairs (headers, tags, cookies come in both forms)."""
    if isinstance(value, dict):
        return [(str(k), as_text(v)) for k, v in value.items()]
    rows = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            rows.append((as_text(item[0]), as_text(item[1])))
        elif isinstance(item, dict) and "key" in item:
            rows.append((as_text(item.get("key")), as_text(item.get("value"))))
    return rows


def frame_view(frame, platform, highlight=True):
    if not isinstance(frame, dict):
        return None
    pre = [x for x in _list(frame.get("pre_context")) if isinstance(x, str)]
    line = frame.get("context_line")
    post = [x for x in _list(frame.get("post_context")) if isinstance(x, str)]
    lineno = frame.get("lineno") if isinstance(frame.get("lineno"), int) else None
    source = []
    if isinstance(line, str):
        lines = [*pre, line, *post]
        start = (lineno or len(pre) + 1) - len(pre)
        filename = frame.get("filename") or frame.get("abs_path") or ""
        # Library frames are collapsed by default: plain (escaped) text unless all frames show.
        html = highlight_lines(lines, str(filename), platform) if highlight else lines
        source = [
            {"number": start + i, "html": html[i], "text": lines[i], "current": i == len(pre)}
            for i in range(len(lines))
        ]
    variables = frame.get("vars")
    return {
        "filename": as_text(
            frame.get("filename") or frame.get("abs_path") or frame.get("module") or "?", 300
        ),
        "module": as_text(frame.get("module") or "", 300),
        "function": as_text(frame.get("function") or "?", 300),
        "lineno": lineno,
        "colno": frame.get("colno") if isinstance(frame.get("colno"), int) else None,
        "in_app": frame.get("in_app") is True,
        "source": source,
        "vars": pairs(variables) if isinstance(variables, dict) else [],
        "package": as_text(frame.get("package") or "", 300),
        # Native frames without symbols: the address, and the offset into its module if known.
        "address": as_text(frame.get("instruction_addr") or "", 40),
        "offset": as_text(frame.get("module_offset") or "", 40),
        # Resolved through a source map in the digest (digest/sourcemaps.py).
        "mapped": isinstance(frame.get("data"), dict) and bool(frame["data"].get("sourcemap")),
    }


def stack_view(stacktrace, platform, all_frames=True):
    raw = _list(stacktrace.get("frames") if isinstance(stacktrace, dict) else None)
    has_app = any(isinstance(f, dict) and f.get("in_app") is True for f in raw)
    frames = [
        frame_view(
            f,
            platform,
            highlight=all_frames
            or not has_app
            or (isinstance(f, dict) and f.get("in_app") is True),
        )
        for f in raw
    ]
    frames = [f for f in frames if f]
    frames.reverse()  # most recent call first, as developers read a trace in a tracker
    return {"frames": frames, "has_app": any(f["in_app"] for f in frames)}


def exceptions_view(data, all_frames=True, minified=False):
    """Exceptions, the main (last sent) one first; chained causes and group members follow, each
    with its `relation` to the exception it belongs to (see chains.py). `minified`: the frames as
    the SDK sent them, before source maps (`raw_stacktrace`)."""
    platform = data.get("platform") if isinstance(data.get("platform"), str) else ""
    values = [v for v in _list(data.get("exception")) if isinstance(v, dict)]
    links = chain_links(values, platform)
    out = []
    for exc, link in reversed(list(zip(values, links, strict=True))):
        mech = exc["mechanism"] if isinstance(exc.get("mechanism"), dict) else {}
        out.append(
            {
                "type": as_text(exc.get("type") or "Error", 300),
                "value": as_text(exc.get("value") or ""),
                "module": as_text(exc.get("module") or "", 300),
                "mechanism": as_text(mech.get("type") or "", 100),
                "handled": mech.get("handled"),
                "is_group": mech.get("is_exception_group") is True,
                "relation": link.relation,
                "depth": min(link.depth, 3),
                "stack": stack_view(_stacktrace_of(exc, minified), platform, all_frames),
            }
        )
    return out


def _stacktrace_of(owner, minified):
    raw = owner.get("raw_stacktrace")
    return raw if minified and isinstance(raw, dict) else owner.get("stacktrace")


def sourcemaps_view(data):
    """What the digest's source maps did: frames mapped, maps missing, minified frames kept."""
    noted = data.get("_sourcemaps") if isinstance(data.get("_sourcemaps"), dict) else {}
    missing = [as_text(url, 500) for url in _list(noted.get("missing")) if isinstance(url, str)]
    values = _list(data.get("exception"))
    return {
        "missing": missing,
        "has_minified": any(isinstance(v, dict) and "raw_stacktrace" in v for v in values),
    }


def threads_view(data, all_frames=True):
    platform = data.get("platform") if isinstance(data.get("platform"), str) else ""
    out = []
    for thread in _list(data.get("threads")):
        if not isinstance(thread, dict) or not isinstance(thread.get("stacktrace"), dict):
            continue
        out.append(
            {
                "name": as_text(thread.get("name") or thread.get("id") or "thread", 200),
                "crashed": thread.get("crashed") is True,
                "current": thread.get("current") is True,
                "stack": stack_view(thread.get("stacktrace"), platform, all_frames),
            }
        )
    return out


def message_of(data):
    logentry = data.get("logentry") or data.get("message")
    if isinstance(logentry, dict):
        return as_text(logentry.get("formatted") or logentry.get("message") or "")
    return as_text(logentry) if logentry else ""


def parse_timestamp(value):
    """An aware datetime from what SDKs send as a time: Unix seconds (a number or a numeric
    string, as the JavaScript SDKs send) or ISO 8601 (as sentry-python sends; naive is UTC)."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str) and value.strip():
            text = value.strip()
            try:
                return datetime.fromtimestamp(float(text), tz=UTC)
            except ValueError:
                moment = datetime.fromisoformat(text)
                return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def breadcrumbs_view(data):
    rows = []
    for crumb in _list(data.get("breadcrumbs")):
        if not isinstance(crumb, dict):
            continue
        rows.append(
            {
                "time": parse_timestamp(crumb.get("timestamp")),
                "timestamp": as_text(crumb.get("timestamp") or "", 40),
                "category": as_text(crumb.get("category") or crumb.get("type") or "", 100),
                "level": as_text(crumb.get("level") or "info", 20),
                "message": as_text(crumb.get("message") or ""),
                "data": pairs(crumb.get("data")) if isinstance(crumb.get("data"), dict) else [],
            }
        )
    return rows


def details_view(data):
    """The event-details tab: sections of key/value rows."""
    request = data.get("request") if isinstance(data.get("request"), dict) else {}
    sections = []
    if request:
        rows = [
            (k, as_text(request.get(k)))
            for k in ("method", "url", "query_string", "data")
            if request.get(k) not in (None, "", {})
        ]
        sections.append(("Request", rows))
        if request.get("headers"):
            sections.append(("Request headers", pairs(request.get("headers"))))
        if request.get("cookies"):
            sections.append(("Cookies", pairs(request.get("cookies"))))
        if isinstance(request.get("env"), dict):
            sections.append(("Environment", pairs(request.get("env"))))
    if isinstance(data.get("user"), dict):
        sections.append(("User", pairs(data.get("user"))))
    if data.get("tags"):
        sections.append(("Tags", pairs(data.get("tags"))))
    if isinstance(data.get("contexts"), dict):
        for name, ctx in data["contexts"].items():
            sections.append(
                (
                    f"Context: {name}",
                    pairs(ctx) if isinstance(ctx, dict) else [("value", as_text(ctx))],
                )
            )
    if isinstance(data.get("sdk"), dict):
        sdk = data["sdk"]
        rows = [
            ("name", as_text(sdk.get("name") or "")),
            ("version", as_text(sdk.get("version") or "")),
        ]
        if sdk.get("integrations"):
            rows.append(("integrations", as_text(sdk.get("integrations"))))
        sections.append(("SDK", rows))
    if isinstance(data.get("modules"), dict):
        sections.append(("Modules", sorted(pairs(data["modules"]))))
    if isinstance(data.get("extra"), dict) and data["extra"]:
        sections.append(("Extra", pairs(data["extra"])))
    other = [
        (k, as_text(data.get(k)))
        for k in (
            "environment",
            "release",
            "server_name",
            "transaction",
            "dist",
            "logger",
            "platform",
        )
        if data.get(k)
    ]
    if other:
        sections.insert(0, ("Event", other))
    return [{"title": title, "rows": rows} for title, rows in sections if rows]


def event_view(data, all_frames=True, minified=False):
    return {
        "message": message_of(data),
        "exceptions": exceptions_view(data, all_frames, minified),
        "sourcemaps": sourcemaps_view(data),
        "threads": threads_view(data, all_frames),
        "breadcrumbs": breadcrumbs_view(data),
        "details": details_view(data),
    }
