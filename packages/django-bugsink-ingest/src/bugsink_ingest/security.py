"""Browser CSP violation reports as events: posted to /api/<id>/security/ (report-uri or the
Reporting API), or inside an envelope as a `raw_security` item."""

import json
import uuid
from typing import Any
from urllib.parse import parse_qs

from bugsink_ingest.errors import BadRequest


def report_context(query_string: str) -> dict[str, str]:
    """The event fields a report URL may carry: ?sentry_release=...&sentry_environment=... (a
    browser sends only the report, so the page's CSP names them in the report URL)."""
    if "sentry_" not in query_string:
        return {}
    query = parse_qs(query_string)
    context = {}
    for field, name, cap in (
        ("release", "sentry_release", 250),
        ("environment", "sentry_environment", 64),
    ):
        value = query.get(name, [""])[0].strip()
        if value:
            context[field] = value[:cap]
    return context


def report_to_event(
    payload: bytes, context: dict[str, str] | None = None, event_id: str | None = None
) -> bytes:
    """A report-uri body ({"csp-report": {...}}) or a Reporting API list, as event JSON bytes,
    with `context` (report_context()) and `event_id` (a new one if None)."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("CSP report is not valid JSON") from None
    if isinstance(data, list):  # Reporting API: [{"type": "csp-violation", "body": {...}}]
        data = next((r.get("body") for r in data if isinstance(r, dict)), None)
        report = _from_reporting_api(data) if isinstance(data, dict) else None
    elif isinstance(data, dict):
        report = data.get("csp-report")
    else:
        report = None
    if not isinstance(report, dict):
        raise BadRequest("not a CSP report: expected a csp-report object")
    directive = str(report.get("effective-directive") or report.get("violated-directive") or "")
    blocked = str(report.get("blocked-uri") or "inline")
    event = {
        "event_id": event_id or uuid.uuid4().hex,
        "level": "error",
        "logger": "csp",
        "platform": "javascript",
        "message": f"Blocked '{directive.split(' ')[0] or 'resource'}' from '{blocked}'",
        "request": {"url": str(report.get("document-uri") or "")},
        "tags": {"csp.directive": directive.split(" ")[0][:200], "csp.blocked": blocked[:200]},
        "extra": {"csp_report": report},
        **(context or {}),
    }
    return json.dumps(event).encode()


def _from_reporting_api(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "document-uri": body.get("documentURL"),
        "blocked-uri": body.get("blockedURL"),
        "effective-directive": body.get("effectiveDirective"),
        "original-policy": body.get("originalPolicy"),
        "source-file": body.get("sourceFile"),
        "line-number": body.get("lineNumber"),
        "disposition": body.get("disposition"),
    }
