"""Title, culprit and the list columns of an event, as Sentry users know them."""

from bugsink_issues.digest.exceptions import (
    is_message_wrapper,
    main_exceptions,
    mechanism_type,
    top_frame,
)

MAX_TITLE = 255


def _first_line(text, limit=MAX_TITLE):
    text = str(text or "").strip()
    line = text.splitlines()[0] if text else ""
    return line[: limit - 1] + "…" if len(line) > limit else line


def title_for(data):
    # Whitespace-only messages and values leave nothing to show: never an empty title.
    return _title(data) or "<unlabeled event>"


def _title(data):
    if data.get("_unparseable"):
        return "<unparseable event payload>"
    main, _ = main_exceptions(data)
    message = (data.get("logentry") or {}).get("formatted") or data.get("message") or ""
    if main is not None and not is_message_wrapper(main):
        exc_type = str(main.get("type") or mechanism_type(main) or "")
        value = _first_line(main.get("value"))
        if exc_type and value:
            return _first_line(f"{exc_type}: {value}")
        if exc_type or value:
            return _first_line(exc_type or value)
        if message:
            return _first_line(message)
        return "<unknown error>"
    if message:
        return _first_line(message)
    if main is not None and main.get("value"):
        return _first_line(main.get("value"))
    return "<unlabeled event>"


def culprit_for(data):
    """The transaction if the SDK named one, else the crashing frame, else the logger."""
    for candidate in (data.get("transaction"), data.get("culprit")):
        if candidate and isinstance(candidate, str):
            return _first_line(candidate)
    frame = top_frame(data)
    if frame:
        where = frame.get("module") or frame.get("filename") or frame.get("abs_path") or ""
        function = frame.get("function") or "?"
        if where or function != "?":
            return _first_line(f"{where} in {function}" if where else function)
    return _first_line(data.get("logger") or "")


def user_label(user):
    if not isinstance(user, dict):
        return ""
    for key in ("email", "username", "id", "ip_address"):
        if user.get(key):
            return str(user[key])[:200]
    return ""
