"""The URLconf of the ingest fast path (wsgi.py): the Sentry endpoints and nothing else."""

from django.urls import include, path

urlpatterns = [path("", include("bugsink_ingest.urls"))]
