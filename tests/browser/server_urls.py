from django.contrib.staticfiles.views import serve
from django.urls import include, path, re_path


def static(request, path):
    # DEBUG is off in this server (as in production); serve the app's static files anyway.
    return serve(request, path, insecure=True)


urlpatterns = [
    path("", include("bugsink_ingest.urls")),
    path("api/0/", include("bugsink_issues.api.urls")),
    path("", include("bugsink_issues.urls")),
    re_path(r"^static/(?P<path>.*)$", static),
]
