from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def ok(request):
    """The ingest benchmark's ceiling: a Django view that reads the body and answers 200."""
    request.read()
    return HttpResponse(b'{"id": "0"}', content_type="application/json")


urlpatterns = [
    path("", include("bugsink_ingest.urls")),
    path("ok/", ok),
]
