"""The Sentry endpoints. Thin: reading, parsing and spooling live in their own modules.

No session, CSRF or user work happens here (csrf_exempt; nothing touches request.session or
request.user), and every answer, errors included, carries the CORS headers.
"""

import logging
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bugsink_ingest import auth, intake, minidump_upload, multipart, ratelimit, security, unkept
from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.decoding import decode_stream, read_wsgi_body
from bugsink_ingest.envelope import ChunkReader, Envelope, Limits, read_header, read_items
from bugsink_ingest.errors import BadRequest, IngestError
from bugsink_ingest.handoff import OPTIONAL_KINDS
from bugsink_ingest.loopguard import ingest_chain
from bugsink_ingest.spool import SpooledEvent

logger = logging.getLogger(__name__)
EXPOSED = "x-sentry-error, x-sentry-rate-limits, retry-after"
ALLOWED_HEADERS = (
    "content-type, content-encoding, x-sentry-auth, authorization, sentry-trace, baggage"
)


class Stage:
    """How far a request got: a failure while spooling is a 503 (retry), before it a 400."""

    def __init__(self) -> None:
        self.name = "reading"


Handler = Callable[..., HttpResponse]
View = Callable[..., HttpResponse]


def _limits() -> Limits:
    return Limits(
        header_line=ingest_settings.MAX_HEADER_LINE,
        event=ingest_settings.MAX_EVENT_SIZE,
        attachment=ingest_settings.MAX_ATTACHMENT_SIZE,
    )


def _body(request: HttpRequest, max_output: int) -> Iterator[bytes]:
    raw = read_wsgi_body(request.META, ingest_settings.MAX_COMPRESSED_BODY)
    return decode_stream(raw, request.META.get("HTTP_CONTENT_ENCODING", ""), max_output)


def _with_cors(response: HttpResponse) -> HttpResponse:
    # Set here, not left to CommonMiddleware: a site may serve these views without middleware.
    origin = ingest_settings.CORS_ALLOW_ORIGIN
    response["Content-Length"] = str(len(response.content))
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Expose-Headers"] = EXPOSED
    if origin != "*":
        response["Vary"] = "Origin"
    return response


def _preflight(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=200)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = request.META.get(
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ALLOWED_HEADERS
    )
    response["Access-Control-Max-Age"] = "86400"
    return response


def _error(status: int, detail: str, **headers: str) -> HttpResponse:
    response = JsonResponse({"detail": detail}, status=status)
    response["X-Sentry-Error"] = detail
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _endpoint(handler: Handler) -> View:
    """POST only; OPTIONS answered; every failure a clean 4xx/503 with CORS headers."""

    @csrf_exempt
    def view(request: HttpRequest, *args: str, **kwargs: str) -> HttpResponse:
        if request.method == "OPTIONS":
            return _with_cors(_preflight(request))
        if request.method != "POST":
            response = _error(405, "Send events with POST.")
            response["Allow"] = "POST, OPTIONS"
            return _with_cors(response)
        with ingest_chain("request"):  # what the SDK reports from here must not come back here
            return _with_cors(_handle(handler, request, *args, **kwargs))

    view.__name__ = handler.__name__
    view.__module__ = __name__
    return view


def _handle(handler: Handler, request: HttpRequest, *args: str, **kwargs: str) -> HttpResponse:
    stage = Stage()
    try:
        return handler(request, stage, *args, **kwargs)
    except IngestError as e:
        return _error(e.status, e.detail)
    except intake.Backpressure:
        seconds = ingest_settings.BACKPRESSURE_RETRY_AFTER
        return _error(
            429,
            "The server is catching up on a backlog; retry later.",
            Retry_After=str(seconds),
        )
    except Exception:
        # The last resort: a bug, or the spool's disk/database failed. Nothing was acknowledged.
        logger.exception("ingest failed while %s", stage.name)
        if stage.name == "spooling":
            return _error(503, "Could not store the event; retry later.", Retry_After="60")
        return _error(400, "The request could not be read.")


def _answer(
    stage: Stage,
    key: auth.KeyInfo,
    events: list[SpooledEvent],
    event_id: str | None,
    skipped: set[str] | None = None,
) -> HttpResponse:
    """skipped: the types of the items the envelope carried that were not kept."""
    stage.name = "spooling"
    accepted = intake.accept(events, key)
    limited = accepted.limited
    not_kept = unkept.rate_limits_header(skipped or ())
    if limited and not accepted.stored:
        header = _rate_limits_header(limited, accepted.refused)
        return _error(
            429,
            f"Rate limit for this {limited.scope} reached.",
            Retry_After=str(limited.retry_after),
            X_Sentry_Rate_Limits=f"{header}, {not_kept}" if not_kept else header,
        )
    # The id of the envelope's event (a session or client report has an id only ingest knows).
    named = [e for e in events if e.kind not in OPTIONAL_KINDS]
    event_id = named[0].event_id if named else event_id
    # Ids are 32 hex digits (normalised), so this is valid JSON without a serialiser.
    body = b'{"id": "%s"}' % event_id.encode() if event_id else b"{}"
    response = HttpResponse(body, content_type="application/json")
    groups = []
    if limited:
        # Part of the envelope fit under the limit: stored, the rest dropped; the SDK is told to
        # hold back what was refused (SDKs read this header on any status).
        groups.append(_rate_limits_header(limited, accepted.refused))
    if not_kept:
        groups.append(not_kept)  # categories never kept: the SDK stops sending them
    if groups:
        response["X-Sentry-Rate-Limits"] = ", ".join(groups)
    return response


def _rate_limits_header(limited: ratelimit.Limited, categories: tuple[str, ...]) -> str:
    return f"{limited.retry_after}:{';'.join(categories)}:{limited.scope}"


def _read_envelope(
    request: HttpRequest, project_id: int | None, tunnel: bool, skipped: set[str]
) -> tuple[auth.KeyInfo, list[SpooledEvent], str | None]:
    limits = _limits()
    reader = ChunkReader(_body(request, ingest_settings.MAX_ENVELOPE_SIZE))
    key = None
    credentials = None if tunnel else auth.credentials_from_request(request)
    request_key = credentials.key if credentials else None
    if request_key and project_id is not None:  # refuse a bad key before reading the body
        key = auth.authenticate(request_key, project_id)
    envelope = Envelope(read_header(reader, limits))
    if key is None:
        parsed = auth.parse_dsn(envelope.headers.get("dsn"))
        if parsed is None:
            if tunnel:
                raise BadRequest("The envelope header has no valid dsn: the tunnel needs one.")
            raise auth.missing_key()
        dsn_key, dsn_project = parsed
        if tunnel or project_id is None:
            project_id = dsn_project
        elif dsn_project != project_id:
            raise BadRequest("The envelope's dsn names another project than the URL.")
        key = auth.authenticate(dsn_key, project_id)
    events = intake.events_from_envelope(
        envelope.headers,
        read_items(reader, limits, skipped),
        key.project_id,
        sentry_client=credentials.client if credentials else "",
        query_string=request.META.get("QUERY_STRING", ""),
    )
    return key, events, intake.normal_event_id(envelope.headers.get("event_id"))


def _envelope(request: HttpRequest, stage: Stage, project_id: str) -> HttpResponse:
    skipped: set[str] = set()
    key, events, event_id = _read_envelope(request, int(project_id), False, skipped)
    return _answer(stage, key, events, event_id, skipped)


def _tunnel(request: HttpRequest, stage: Stage) -> HttpResponse:
    skipped: set[str] = set()
    key, events, event_id = _read_envelope(request, None, True, skipped)
    return _answer(stage, key, events, event_id, skipped)


def _store(request: HttpRequest, stage: Stage, project_id: str) -> HttpResponse:
    credentials = auth.credentials_from_request(request)
    key = auth.authenticate(credentials.key, int(project_id))
    # base64 makes a body a third larger than the event it carries.
    raw = b"".join(_body(request, ingest_settings.MAX_EVENT_SIZE * 4 // 3 + 4))
    event = intake.event_from_store(
        intake.store_payload(raw), key.project_id, sentry_client=credentials.client
    )
    return _answer(stage, key, [event], event.event_id)


def _security(request: HttpRequest, stage: Stage, project_id: str) -> HttpResponse:
    key = auth.authenticate(auth.key_from_request(request), int(project_id))
    raw = b"".join(_body(request, ingest_settings.MAX_EVENT_SIZE))
    context = security.report_context(request.META.get("QUERY_STRING", ""))
    event = intake.event_from_store(security.report_to_event(raw, context), key.project_id)
    return _answer(stage, key, [event], event.event_id)


def _minidump(request: HttpRequest, stage: Stage, project_id: str) -> HttpResponse:
    # Crash reporters authenticate in the query string (?sentry_key=), some with a header.
    credentials = auth.credentials_from_request(request)
    key = auth.authenticate(credentials.key, int(project_id))
    boundary = multipart.boundary_of(request.META.get("CONTENT_TYPE", ""))
    parts = multipart.read_parts(_body(request, ingest_settings.MAX_ENVELOPE_SIZE), boundary)
    event = minidump_upload.event_from_upload(
        parts,
        key.project_id,
        max_fields=ingest_settings.MAX_EVENT_SIZE,
        max_attachment=ingest_settings.MAX_ATTACHMENT_SIZE,
        sentry_client=credentials.client,
    )
    return _answer(stage, key, [event], event.event_id)


envelope = _endpoint(_envelope)
minidump = _endpoint(_minidump)
store = _endpoint(_store)
security_report = _endpoint(_security)
# Mount on the host site for browser code (same origin, auth from the envelope's dsn):
#     path("sentry-tunnel/", bugsink_ingest.views.tunnel)
tunnel = _endpoint(_tunnel)
