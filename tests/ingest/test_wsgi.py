"""bugsink_ingest.wsgi: SDK requests skip the site's middleware and URLconf; the rest does not."""

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings
from django.urls import set_script_prefix

from bugsink_ingest import spool
from bugsink_ingest.wsgi import with_ingest_fast_path

SEEN: list[str] = []


class SiteMiddleware:
    """Stands for a site's middleware: it records every request that passes through it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        SEEN.append(request.path)
        return self.get_response(request)


def call(app, path, body=b"", query="", content_type=""):
    environ = {
        "REQUEST_METHOD": "POST" if body else "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": content_type,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])

    answer["body"] = b"".join(app(environ, start_response))
    return answer


@pytest.fixture
def key(tmp_path):
    from bugsink_ingest.models import Project, ProjectKey

    SEEN.clear()
    with override_settings(
        MIDDLEWARE=["tests.ingest.test_wsgi.SiteMiddleware"],
        ROOT_URLCONF="tests.ingest.wsgi_site_urls",
        BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool",
        BUGSINK_INGEST_CONSUMER="tests.ingest.test_drain.picky",
    ):
        spool._spool_for.cache_clear()
        yield ProjectKey.objects.create(project=Project.objects.create(name="p"))
    spool._spool_for.cache_clear()
    # A request under a prefix leaves it as this thread's script prefix (each real request sets
    # its own): later tests' reverse() must not get it.
    set_script_prefix("/")


ENVELOPE = b'{"event_id":"%s"}\n{"type":"event"}\n{"message":"m"}' % (b"b" * 32)


@pytest.mark.django_db(transaction=True)  # the handler closes connections after each request
def test_sdk_requests_skip_the_site_under_its_prefix(key):
    app = with_ingest_fast_path(WSGIHandler(), prefix="errors/")
    query = f"sentry_key={key.public_key}"
    answer = call(app, f"/errors/api/{key.project_id}/envelope/", ENVELOPE, query)
    assert answer["status"] == 200 and json.loads(answer["body"]) == {"id": "b" * 32}
    assert SEEN == []  # no middleware ran
    assert call(app, "/page/")["body"] == b"the site's own page"
    assert SEEN == ["/page/"]
    # Outside the prefix the fast path does not apply (and the site has nothing there).
    assert call(app, f"/api/{key.project_id}/envelope/", ENVELOPE, query)["status"] == 404
    assert SEEN == ["/page/", f"/api/{key.project_id}/envelope/"]


@pytest.mark.django_db(transaction=True)
def test_without_the_prefix_sdk_requests_still_work_through_the_site(key):
    app = with_ingest_fast_path(WSGIHandler())
    query = f"sentry_key={key.public_key}"
    answer = call(app, f"/errors/api/{key.project_id}/envelope/", ENVELOPE, query)
    assert answer["status"] == 200
    assert SEEN == [f"/errors/api/{key.project_id}/envelope/"]  # the slow path, through the site


@pytest.mark.django_db(transaction=True)
def test_minidump_uploads_take_the_fast_path(key):
    app = with_ingest_fast_path(WSGIHandler(), prefix="errors/")
    form = (
        b'--b\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="m.dmp"'
        b"\r\n\r\nMDMP\r\n--b--\r\n"
    )
    answer = call(
        app,
        f"/errors/api/{key.project_id}/minidump/",
        form,
        f"sentry_key={key.public_key}",
        "multipart/form-data; boundary=b",
    )
    assert answer["status"] == 200, answer["body"]
    assert SEEN == []  # no middleware ran (none of them reads the form either)
