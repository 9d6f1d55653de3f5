"""The URLconf of the background worker (runworker): the UI's pages at the paths the site has them,
for the links in alerts. It serves nothing; the site's URLconf is urls.py."""

from django.urls import include, path

urlpatterns = [
    path("", include("bugsink_ingest.urls")),
    path("", include("bugsink_issues.urls")),
]
