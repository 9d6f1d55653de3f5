from django.http import HttpResponse
from django.urls import include, path

from bugsink_ingest.views import tunnel


def ok(request):
    return HttpResponse(b"ok")


urlpatterns = [
    path("", include("bugsink_ingest.urls")),
    # The capture server's test prefixes, and a deeper one: a DSN with a path prefix works.
    *[
        path(f"{prefix}/", include("bugsink_ingest.urls", namespace=prefix.replace("/", "-")))
        for prefix in ("r429", "rl", "r413", "r500", "deep/er")
    ],
    path("tunnel", tunnel),
    path("ok/", ok),
]
