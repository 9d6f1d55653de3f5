"""Tags derived from an event plus the SDK's own, and their per-issue counts."""

import re
from urllib.parse import urlsplit

from django.db import connection

from bugsink_issues.digest.exceptions import main_exceptions, mechanism
from bugsink_issues.digest.summary import user_label
from bugsink_issues.models import IssueTagValue, TagValue
from bugsink_issues.models.fields import to_microseconds

MAX_TAGS_PER_EVENT = 50
MAX_KEY = 64
MAX_VALUE = 200

_BROWSERS = [  # order matters: Edge and Opera say "Chrome" too, Chrome says "Safari"
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Firefox", re.compile(r"Firefox/(\d+)")),
    ("Chrome", re.compile(r"Chrome/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[\d.]* .*Safari/")),
]


def derive_tags(data) -> list[tuple[str, str]]:
    contexts = data.get("contexts") if isinstance(data.get("contexts"), dict) else {}
    derived = {
        "release": data.get("release"),
        "environment": data.get("environment"),
        "server": data.get("server_name"),
        "level": data.get("level"),
        "browser": _name_version(contexts.get("browser")) or _browser_from_headers(data),
        "os": _name_version(contexts.get("os")),
        "runtime": _name_version(contexts.get("runtime")),
        "device": _device(contexts.get("device")),
        "user": user_label(data.get("user")),
        "url": _url(data.get("request")),
    }
    main, _ = main_exceptions(data)
    if main is not None:
        mech = mechanism(main)
        if "handled" in mech and mech["handled"] is not None:
            derived["handled"] = "yes" if mech["handled"] else "no"
        derived["mechanism"] = mech.get("type")
    tags = {}
    for key, value in derived.items():
        if value not in (None, ""):
            tags[key] = str(value)[:MAX_VALUE]
    sdk_tags = data.get("tags") if isinstance(data.get("tags"), dict) else {}
    for key, value in sdk_tags.items():
        if len(tags) >= MAX_TAGS_PER_EVENT:
            break
        if value not in (None, "") and key not in tags:
            tags[str(key)[:MAX_KEY]] = str(value)[:MAX_VALUE]
    return list(tags.items())


def _name_version(context):
    if not isinstance(context, dict):
        return ""
    name = context.get("name") or ""
    version = str(context.get("version") or "").strip()
    return f"{name} {version}".strip() if name else ""


def _device(context):
    if not isinstance(context, dict):
        return ""
    return str(context.get("model") or context.get("family") or context.get("name") or "")


def _browser_from_headers(data):
    request = data.get("request")
    if not isinstance(request, dict):
        return ""
    for name, value in request.get("headers") or []:
        if str(name).lower() == "user-agent":
            for browser, pattern in _BROWSERS:
                match = pattern.search(str(value))
                if match:
                    return f"{browser} {match.group(1)}"
    return ""


def _url(request):
    if not isinstance(request, dict) or not request.get("url"):
        return ""
    try:
        parts = urlsplit(str(request["url"]))
    except ValueError:
        return str(request["url"])[:MAX_VALUE]
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path


# Rows per multi-row INSERT: 6 parameters each stays far below SQLite's 32,766 and PostgreSQL's
# 65,535 parameters per statement.
ROWS_PER_STATEMENT = 500


def _insert_many(cursor, head, tail, rows):
    """One INSERT with many VALUES rows per ROWS_PER_STATEMENT rows: an executemany costs a
    statement per row on PostgreSQL, and the per-issue tag rows were the digest's costliest
    statements there (about 7 per event)."""
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        marks = ", ".join(["(" + ", ".join(["%s"] * len(chunk[0])) + ")"] * len(chunk))
        cursor.execute(f"{head} VALUES {marks} {tail}", [v for row in chunk for v in row])


def record_issue_tags(project_id, counts):
    """Add counts to per-issue tag values.

    counts: {(issue_id, key, value): [count, first_seen, last_seen]}. A few upsert statements per
    batch instead of a read-modify-write per tag (the digest's hot path); each (issue, tag value)
    appears once in them, as an upsert of several rows requires.
    """
    if not counts:
        return
    pairs = sorted({(key, value) for (_, key, value) in counts})
    tag_table = TagValue._meta.db_table
    with connection.cursor() as cursor:
        _insert_many(
            cursor,
            f"INSERT INTO {tag_table} (project_id, key, value)",
            "ON CONFLICT (project_id, key, value) DO NOTHING",
            [(project_id, key, value) for key, value in pairs],
        )
    ids = {
        (key, value): pk
        for pk, key, value in TagValue.objects.filter(
            project_id=project_id, key__in={k for k, _ in pairs}, value__in={v for _, v in pairs}
        ).values_list("id", "key", "value")
    }
    table = IssueTagValue._meta.db_table
    rows = sorted(
        (issue_id, ids[(key, value)], key, count, to_microseconds(first), to_microseconds(last))
        for (issue_id, key, value), (count, first, last) in counts.items()
    )
    with connection.cursor() as cursor:
        _insert_many(
            cursor,
            f"INSERT INTO {table} (issue_id, tag_value_id, key, count, first_seen, last_seen)",
            "ON CONFLICT (issue_id, tag_value_id) DO UPDATE SET "
            f"count = {table}.count + excluded.count, "
            f"first_seen = CASE WHEN excluded.first_seen < {table}.first_seen "
            f"THEN excluded.first_seen ELSE {table}.first_seen END, "
            f"last_seen = CASE WHEN excluded.last_seen > {table}.last_seen "
            f"THEN excluded.last_seen ELSE {table}.last_seen END",
            rows,
        )
