from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from bugsink_ingest.views import tunnel


@csrf_exempt
def ok(request):
    """The benchmark's ceiling: a Django view that reads the body and answers 200."""
    request.read()
    return HttpResponse(b'{"id": "0"}', content_type="application/json")


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
