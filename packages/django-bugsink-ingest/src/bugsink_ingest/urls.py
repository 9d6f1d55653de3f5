"""include("bugsink_ingest.urls") at any prefix. The trailing slash is optional: never redirect."""

from django.urls import re_path

from bugsink_ingest import embed, views

app_name = "bugsink_ingest"
urlpatterns = [
    re_path(r"^api/(?P<project_id>\d+)/envelope/?$", views.envelope, name="envelope"),
    re_path(r"^api/(?P<project_id>\d+)/store/?$", views.store, name="store"),
    # Native crashes from sentry-native, Crashpad, Breakpad and Electron (minidump_upload.py).
    re_path(r"^api/(?P<project_id>\d+)/minidump/?$", views.minidump, name="minidump"),
    re_path(r"^api/(?P<project_id>\d+)/security/?$", views.security_report, name="security"),
    # The crash-report dialog of the browser SDK's showReportDialog (embed.py).
    re_path(r"^api/embed/error-page/?$", embed.error_page, name="error_page"),
]
