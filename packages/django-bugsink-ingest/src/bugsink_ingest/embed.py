"""Sentry's crash-report dialog: `/api/embed/error-page/?dsn=...&eventId=...`, what the browser
SDK's `showReportDialog` loads.

GET answers the dialog's script (static/bugsink_ingest/error-page.js, with the query's options
written in as JSON that cannot end the script); the dialog POSTs name, email and comments back to
the same URL, which becomes a `user_report` for that event, spooled and rate-limited like one sent
in an envelope. Authenticated by the DSN's public key, as the SDK's own requests are. Errors are
JSON with a message (the dialog shows it)."""

import json
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bugsink_ingest import auth, intake
from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.errors import BadRequest, IngestError
from bugsink_ingest.spool import SpooledEvent, new_spool_id

__all__ = ["error_page"]

# The dialog's words; the SDK's showReportDialog options of the same names replace them.
TEXTS = {
    "title": "It looks like we're having issues.",
    "subtitle": "Our team has been notified. If you'd like to help, tell us what happened below.",
    "labelName": "Name",
    "labelEmail": "Email",
    "labelComments": "What happened?",
    "labelSubmit": "Submit Crash Report",
    "labelClose": "Close",
    "successMessage": "Your feedback has been sent. Thank you!",
    "errorMessage": "Your feedback could not be sent.",
}
MAX_FIELD = {"name": 128, "email": 128, "comments": 10_000}


@cache
def _script() -> str:
    return (files("bugsink_ingest") / "static" / "bugsink_ingest" / "error-page.js").read_text()


def _json_for_script(value: object) -> str:
    """JSON that is inert inside a script: no </script>, <!--, or line separators."""
    text = json.dumps(value)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _key_and_event(request: HttpRequest) -> tuple[auth.KeyInfo, str]:
    parsed = auth.parse_dsn(request.GET.get("dsn"))
    if parsed is None:
        raise auth.missing_key()
    key = auth.authenticate(parsed[0], parsed[1])
    event_id = intake.normal_event_id(request.GET.get("eventId"))
    if event_id is None:
        raise BadRequest("eventId must name the event (32 hex digits) the report is about.")
    return key, event_id


def _dialog(request: HttpRequest, event_id: str) -> HttpResponse:
    options: dict[str, str] = {
        k: str(request.GET.get(k) or default)[:500] for k, default in TEXTS.items()
    }
    options.update(
        name=str(request.GET.get("name", ""))[: MAX_FIELD["name"]],
        email=str(request.GET.get("email", ""))[: MAX_FIELD["email"]],
        endpoint=request.build_absolute_uri(),
        eventId=event_id,
    )
    body = f"var OPTIONS = {_json_for_script(options)};\n" + _script()
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _report(request: HttpRequest, key: auth.KeyInfo, event_id: str) -> HttpResponse:
    fields = {k: str(request.POST.get(k, "")).strip() for k in MAX_FIELD}
    if not fields["comments"]:
        raise BadRequest("Say what happened (the comments field is empty).")
    for name, cap in MAX_FIELD.items():
        if len(fields[name]) > cap:
            raise BadRequest(f"The {name} field is over {cap} characters.")
    payload = json.dumps({"event_id": event_id, **fields}).encode()
    report = SpooledEvent(
        spool_id=new_spool_id(),
        project_id=key.project_id,
        event_id=event_id,  # one report per event, as a user_report item is
        received_at=datetime.now(UTC),
        payload=payload,
        kind="user_report",
    )
    accepted = intake.accept([report], key)
    if not accepted.stored:
        limited = accepted.limited
        retry = str(limited.retry_after) if limited else "60"
        response = JsonResponse({"detail": "Too many reports; try again later."}, status=429)
        response["Retry-After"] = retry
        return response
    return JsonResponse({})


@csrf_exempt
def error_page(request: HttpRequest) -> HttpResponse:
    try:
        if request.method not in ("GET", "POST"):
            response: HttpResponse = JsonResponse({"detail": "GET or POST."}, status=405)
            response["Allow"] = "GET, POST"
        else:
            key, event_id = _key_and_event(request)
            if request.method == "GET":
                response = _dialog(request, event_id)
            else:
                response = _report(request, key, event_id)
    except IngestError as e:
        response = JsonResponse({"detail": e.detail}, status=e.status)
    except intake.Backpressure:
        response = JsonResponse({"detail": "The server is catching up; retry later."}, status=429)
        response["Retry-After"] = str(ingest_settings.BACKPRESSURE_RETRY_AFTER)
    response["Access-Control-Allow-Origin"] = ingest_settings.CORS_ALLOW_ORIGIN
    return response
