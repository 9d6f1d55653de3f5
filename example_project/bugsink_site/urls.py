from allauth import urls as allauth_urls
from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from bugsink_issues.ui.csp import with_content_security_policy

# The admin has no login form of its own: an anonymous visitor goes to allauth's (throttled, with
# the second factor), and a logged-in user who is not staff gets a 403.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


# allauth's pages get the UI's policy too: their TOTP QR code is a data: image, and the SSO button's
# form ends in a redirect to the provider (form-action covers where a form's redirects go).
ACCOUNTS_CSP = {"img-src": ["data:"]}
if settings.OIDC:
    ACCOUNTS_CSP["form-action"] = [_origin(settings.OIDC["settings"]["server_url"])]

urlpatterns = [
    path("health/", include("bugsink_ingest.health_urls")),
    path(
        "accounts/", include(with_content_security_policy(allauth_urls.urlpatterns, ACCOUNTS_CSP))
    ),
    path("admin/", admin.site.urls),
    path("", include("bugsink_ingest.urls")),
    path("api/0/", include("bugsink_issues.api.urls")),
    path("", include("bugsink_issues.urls")),
]
