"""BUGSINK_REQUIRE_MFA: an installation where every password login needs a second factor."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import MiddlewareNotUsed
from django.shortcuts import redirect
from django.urls import reverse

# Until they have set one up, users reach only the account pages (where MFA is set up, and log
# out), the static files and the health checks.
OPEN_PREFIXES = ("/accounts/", "/health/")
SECOND_FACTORS = ("totp", "webauthn")


class RequireMFAMiddleware:
    def __init__(self, get_response):
        if not settings.REQUIRE_MFA:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.open_prefixes = (*OPEN_PREFIXES, settings.STATIC_URL)

    def __call__(self, request):
        if (
            request.user.is_authenticated
            and not request.path.startswith(self.open_prefixes)
            and needs_second_factor(request)
        ):
            messages.warning(
                request,
                "This installation requires two-factor authentication: set it up to continue.",
            )
            return redirect(reverse("mfa_index"))
        return self.get_response(request)


def needs_second_factor(request) -> bool:
    from allauth.account.authentication import get_authentication_records
    from allauth.mfa.models import Authenticator

    records = get_authentication_records(request, request.user)
    if any(record.get("method") == "socialaccount" for record in records):
        return False  # logged in through the identity provider: its second factor applies
    return not Authenticator.objects.filter(user=request.user, type__in=SECOND_FACTORS).exists()
