"""API tokens in the UI: a user's own tokens (under Preferences), and organization tokens for
superusers. A token's secret is shown once, on the page that answers its creation.

Organization tokens are for superusers only: one belongs to no user and sees every project of the
installation, which no team admin may grant.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from bugsink_issues.api.organization import public_base_url
from bugsink_issues.conf import app_settings
from bugsink_issues.models.api import DEFAULT_USER_SCOPES, SCOPES, ApiToken
from bugsink_issues.ui.views.common import page


class UserTokenForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="What it is for, e.g. CI.")
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in SCOPES],
        initial=list(DEFAULT_USER_SCOPES),
        widget=forms.CheckboxSelectMultiple,
        help_text="What the token may do; it sees only the projects you see.",
    )


class OrganizationTokenForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="What it is for, e.g. CI.")


@login_required
def token_list(request):
    user_form = UserTokenForm(request.POST if request.POST.get("kind") == "user" else None)
    org_form = OrganizationTokenForm(
        request.POST if request.POST.get("kind") == "organization" else None
    )
    created = None
    if request.method == "POST":
        if request.POST.get("kind") == "organization":
            if not request.user.is_superuser:
                raise PermissionDenied("Only superusers create organization tokens.")
            if org_form.is_valid():
                _, created = ApiToken.objects.create_organization_token(
                    base_url=public_base_url(request),
                    organization_slug=app_settings.ORGANIZATION_SLUG,
                    name=org_form.cleaned_data["name"],
                    created_by=request.user,
                )
        elif user_form.is_valid():
            _, created = ApiToken.objects.create_user_token(
                request.user,
                name=user_form.cleaned_data["name"],
                scopes=user_form.cleaned_data["scopes"],
            )
        if created:
            user_form, org_form = UserTokenForm(), OrganizationTokenForm()
    context = {
        "user_tokens": ApiToken.objects.of_user(request.user),
        "user_form": user_form,
        "created": created,
        "base_url": public_base_url(request),
        "organization_slug": app_settings.ORGANIZATION_SLUG,
    }
    if request.user.is_superuser:
        context["organization_tokens"] = ApiToken.objects.organization_tokens()
        context["organization_form"] = org_form
    # The page with a secret on it must not be kept by any cache.
    response = page(request, "bugsink_issues/tokens/list.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, token_id):
    # Another user's token is a 404, as anything else a user may not see.
    revocable = ApiToken.objects.of_user(request.user)
    if request.user.is_superuser:
        revocable = revocable | ApiToken.objects.organization_tokens()
    token = get_object_or_404(revocable, pk=token_id)
    token.revoke()
    messages.success(request, f"Token {token.display} revoked.")
    return redirect("bugsink_issues:tokens")
