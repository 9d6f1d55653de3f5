from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin has no login form of its own: an anonymous visitor goes to allauth's (throttled, with
# the second factor), and a logged-in user who is not staff gets a 403.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("health/", include("bugsink_ingest.health_urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("bugsink_ingest.urls")),
    path("api/0/", include("bugsink_issues.api.urls")),
    path("", include("bugsink_issues.urls")),
]
