from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.views import serve
from django.shortcuts import render
from django.urls import include, path, re_path


def home(request):
    return render(request, "host/home.html")


def static(request, path):
    return serve(request, path, insecure=True)  # DEBUG is off; no WhiteNoise in this site


urlpatterns = [
    path("", home, name="host_home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="host/login.html"),
        name="host_login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The mount the root README shows: the UI and the SDK endpoints under one prefix.
    path("errors/", include("bugsink_issues.urls")),
    path("errors/", include("bugsink_ingest.urls")),
    path("health/", include("bugsink_ingest.health_urls")),
    re_path(r"^static/(?P<path>.*)$", static),
]
