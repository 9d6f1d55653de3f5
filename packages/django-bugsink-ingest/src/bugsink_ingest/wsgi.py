"""A fast path for SDK requests: wrap a site's WSGI application so that requests to the ingest
endpoints skip the site's middleware and URLconf.

The ingest views use none of it (no session, user, CSRF, static files, security redirects; they
set their own CORS headers), and an SDK sends far more requests than people do. Everything else,
the tunnel included, goes through the site as before.

    # wsgi.py of the site
    from django.core.wsgi import get_wsgi_application
    from bugsink_ingest.wsgi import with_ingest_fast_path

    application = with_ingest_fast_path(get_wsgi_application())
    # ingest mounted under a prefix, path("errors/", include("bugsink_ingest.urls")):
    application = with_ingest_fast_path(get_wsgi_application(), prefix="errors/")

Request signals still fire on the fast path, so database connections are closed and recycled as
usual.
"""

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpResponseBase

__all__ = ["IngestHandler", "with_ingest_fast_path"]

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
INGEST_PATH = r"/api/\d+/(?:envelope|store|security|minidump)/?"
INGEST_URLCONF = "bugsink_ingest.urls"


class IngestHandler(WSGIHandler):
    """Django's WSGI handler with no middleware, resolving against the ingest URLs alone."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        # BaseHandler._get_response: the view call without any middleware around it.
        self._middleware_chain = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]

    def get_response(self, request: WSGIRequest) -> HttpResponseBase:  # type: ignore[override]
        request.urlconf = INGEST_URLCONF
        return super().get_response(request)


def with_ingest_fast_path(application: WSGIApplication, prefix: str = "") -> WSGIApplication:
    """`application`, with the ingest endpoints (under `prefix`, where the site mounts
    bugsink_ingest.urls) answered by an IngestHandler."""
    mount = "/" + prefix.strip("/") if prefix.strip("/") else ""
    matches = re.compile(re.escape(mount) + INGEST_PATH).fullmatch
    ingest = IngestHandler()

    def fast_path(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not matches(path):
            return application(environ, start_response)
        if mount:
            # The prefix moves to SCRIPT_NAME, so the path resolves against the ingest URLs
            # alone while request.path stays the one the SDK sent.
            environ = {
                **environ,
                "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + mount,
                "PATH_INFO": path[len(mount) :],
            }
        return ingest(environ, start_response)

    return fast_path
