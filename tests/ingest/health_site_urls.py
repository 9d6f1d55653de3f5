"""A host site that mounts the health views under a prefix of its own."""

from django.urls import include, path

urlpatterns = [path("ops/health/", include("bugsink_ingest.health_urls"))]
