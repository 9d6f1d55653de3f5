"""The WSGI application Gunicorn serves (gunicorn_conf.py names it).

SDK requests to the ingest endpoints skip the site's middleware and URLconf: the ingest views use
none of it (no session, user, CSRF, static files, security redirects; they set their own CORS
headers), and an SDK sends far more requests than people do. Everything else, the rest of /api/
included, goes through the full stack.
"""

import os
import re

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink_site.settings")

INGEST_PATH = re.compile(r"/api/\d+/(?:envelope|store|security)/?")
INGEST_URLCONF = "bugsink_site.ingest_urls"


class IngestHandler(WSGIHandler):
    """Django's WSGI handler with no middleware, resolving against the ingest URLs alone.

    Request signals still fire, so database connections are closed and recycled as usual.
    """

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)

    def get_response(self, request):
        request.urlconf = INGEST_URLCONF
        return super().get_response(request)


site = get_wsgi_application()
ingest = IngestHandler()


def application(environ, start_response):
    if INGEST_PATH.fullmatch(environ.get("PATH_INFO", "")):
        return ingest(environ, start_response)
    return site(environ, start_response)
