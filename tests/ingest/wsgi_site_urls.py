"""A host site with ingest under a prefix, and a page of its own (test_wsgi.py)."""

from django.http import HttpResponse
from django.urls import include, path


def page(request):
    return HttpResponse(b"the site's own page")


urlpatterns = [
    path("errors/", include("bugsink_ingest.urls")),
    path("page/", page),
]
