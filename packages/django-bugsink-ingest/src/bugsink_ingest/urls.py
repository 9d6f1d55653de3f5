"""include("bugsink_ingest.urls") at any prefix. The trailing slash is optional: never redirect."""

from django.urls import re_path

from bugsink_ingest import views

app_name = "bugsink_ingest"
urlpatterns = [
    re_path(r"^api/(?P<project_id>\d+)/envelope/?$", views.envelope, name="envelope"),
    re_path(r"^api/(?P<project_id>\d+)/store/?$", views.store, name="store"),
    re_path(r"^api/(?P<project_id>\d+)/security/?$", views.security_report, name="security"),
]
