"""path("health/", include("bugsink_ingest.health_urls")): health/live and health/ready."""

from django.urls import path

from bugsink_ingest import health

app_name = "health"
urlpatterns = [
    path("live", health.live, name="live"),
    path("ready", health.ready, name="ready"),
]
