from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("bugsink_ingest.urls")),
    path("api/0/", include("bugsink_issues.api.urls")),
    path("", include("bugsink_issues.urls")),
]
