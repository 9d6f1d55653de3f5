from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("health/", include("bugsink_ingest.health_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("bugsink_ingest.urls")),
    path("api/0/", include("bugsink_issues.api.urls")),
    path("", include("bugsink_issues.urls")),
]
