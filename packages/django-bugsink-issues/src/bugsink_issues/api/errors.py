"""Every error under /api/0/ is JSON: `{"detail": "..."}` with the right status, never an HTML page.

sentry-cli prints `detail` verbatim ("sentry reported an error: <detail> (http status: N)") and
refuses any answer that is not `application/json`, so the shape matters to the people who read it.
Three layers keep it so:
- the exception handlers installed on the NinjaAPI (`install_handlers`): 404s, HttpErrors,
  validation errors, permission errors, and the unexpected (logged, then a JSON 500);
- `json_errors`, wrapped around each URL's view by api/urls.py: an error answer that is not JSON
  (ninja's 405, anything Django made) becomes one;
- the catch-all URL (`unknown_path`): a path the API does not know is a JSON 404.
"""

import json
import logging
from functools import wraps

from django.core import signals
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja.errors import AuthenticationError, HttpError, ValidationError

__all__ = [
    "ApiError",
    "RateLimited",
    "empty_response",
    "error_response",
    "install_handlers",
    "json_body",
    "json_errors",
    "unknown_path",
]

logger = logging.getLogger("bugsink_issues.api")

_REASONS = {
    400: "Bad request.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "The requested resource does not exist.",
    405: "Method not allowed.",
    413: "Request too large.",
    429: "Too many requests.",
}


class ApiError(HttpError):
    """An error the client caused: `raise ApiError(409, "A release with this version exists.")`."""

    def __init__(self, status_code, detail, headers=None):
        super().__init__(status_code, detail)
        self.headers = headers or {}


class RateLimited(ApiError):
    def __init__(self, retry_after):
        super().__init__(
            429,
            f"Rate limit exceeded: retry in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


def error_response(status, detail, headers=None, **extra):
    response = JsonResponse({"detail": detail, **extra}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _describe(error):
    where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "payload"))
    message = error.get("msg", "invalid")
    return f"{where}: {message}" if where else message


def _jsonable_errors(errors):
    # pydantic's `ctx` may hold exceptions; the client needs the place, the message and the type.
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]


def install_handlers(api):
    """Replace ninja's default handlers (422 for validation, HTML through Django for the rest)."""

    @api.exception_handler(ValidationError)
    def validation_error(request, exc):
        described = "; ".join(_describe(e) for e in exc.errors[:5])
        return error_response(
            400, f"Invalid request: {described}", errors=_jsonable_errors(exc.errors)
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        return error_response(401, _REASONS[401])

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        return error_response(exc.status_code, str(exc), getattr(exc, "headers", None))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        message = str(exc) if exc.args else _REASONS[404]
        return error_response(404, message)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        return error_response(403, str(exc) or _REASONS[403])

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        return error_response(413, f"Request too large: {exc}")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        # Too many fields or files in a form, a malformed multipart body, and the like.
        return error_response(400, f"Bad request: {exc}")

    @api.exception_handler(MultiPartParserError)
    def bad_multipart(request, exc):
        return error_response(400, f"Invalid multipart body: {exc}")

    @api.exception_handler(Exception)
    def unexpected(request, exc):
        # As Django's own handler would: the log and the signal (error reporting hooks on it),
        # then an answer a client can parse.
        logger.error("Internal Server Error: %s", request.path, exc_info=exc)
        signals.got_request_exception.send(sender=None, request=request)
        return error_response(500, "Internal server error.")


def _is_json(response):
    return response.get("Content-Type", "").split(";")[0].strip() == "application/json"


def json_errors(view):
    """`view`, with any error answer that is not JSON turned into `{"detail": ...}`."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exc:
            return error_response(404, str(exc) if exc.args else _REASONS[404])
        if response.status_code >= 400 and not _is_json(response):
            detail = _REASONS.get(response.status_code, "Error.")
            headers = {"Allow": response["Allow"]} if response.has_header("Allow") else {}
            return error_response(response.status_code, detail, headers)
        return response

    return wrapped


def unknown_path(request, *args, **kwargs):
    return error_response(404, f"Unknown API path: {request.path}")


def json_body(request):
    """The request's JSON body, or an ApiError 400 that says what is wrong with it."""
    try:
        return json.loads(request.body or b"null")
    except ValueError as exc:
        raise ApiError(400, f"Invalid JSON body: {exc}")


def empty_response(status=204):
    return HttpResponse(status=status)
