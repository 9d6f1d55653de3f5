from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from bugsink_site import health

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("bugsink_ingest.urls")),
    path("", include("bugsink_issues.urls")),
]
