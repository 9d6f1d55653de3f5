"""The URLs of whichever packages the settings install: the admin, ingest and the issues UI."""

from django.apps import apps
from django.contrib import admin
from django.urls import include, path

urlpatterns = [path("admin/", admin.site.urls)]
for app in ("bugsink_ingest", "bugsink_issues"):
    if apps.is_installed(app):
        urlpatterns.append(path("", include(f"{app}.urls")))
