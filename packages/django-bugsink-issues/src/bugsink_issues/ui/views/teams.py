from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.urls import reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from bugsink_issues import invitations
from bugsink_issues.conf import app_settings
from bugsink_issues.models.access import (
    Invitation,
    LastAdminError,
    Team,
    TeamMembership,
    TeamRole,
    UserPreferences,
)
from bugsink_issues.ui import access
from bugsink_issues.ui.forms import (
    AddMemberForm,
    InvitationForm,
    PreferencesForm,
    TeamForm,
    username_field,
)
from bugsink_issues.ui.login import login_required
from bugsink_issues.ui.views.common import page


@login_required
def team_list(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST":
        # Creating teams is an installation-level decision: superusers only.
        if not access.can_create_team(request.user):
            raise PermissionDenied("Only superusers create teams.")
        if form.is_valid():
            with transaction.atomic():
                team = form.save()
                TeamMembership.objects.create(team=team, user=request.user, role=TeamRole.ADMIN)
            messages.success(request, "Team created.")
            return redirect("bugsink_issues:team", team_id=team.pk)
    teams = Team.objects.visible_to(request.user).prefetch_related("project_links__project")
    return page(
        request,
        "bugsink_issues/teams/list.html",
        {"teams": teams, "form": form, "can_create_team": access.can_create_team(request.user)},
    )


@login_required
def team_detail(request, team_id):
    team = access.team_or_404(request.user, team_id)
    is_admin = access.is_team_admin(request.user, team)
    return page(
        request,
        "bugsink_issues/teams/detail.html",
        {
            "team": team,
            "is_admin": is_admin,
            "memberships": team.memberships.select_related("user"),
            "projects": [link.project for link in team.project_links.select_related("project")],
            "invitations": _pending_invitations(team, request) if is_admin else [],
            "member_form": AddMemberForm(),
            "login_label": capfirst(username_field().verbose_name),
            "invitation_form": InvitationForm(),
        },
    )


@login_required
@require_POST
def member_add(request, team_id):
    team = access.team_or_404(request.user, team_id, manage=True)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            TeamMembership.objects.set_role(
                team, form.cleaned_data["user"], form.cleaned_data["role"]
            )
            messages.success(request, "Member added.")
        except LastAdminError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("bugsink_issues:team", team_id=team.pk)


@login_required
@require_POST
def member_change(request, team_id, membership_id):
    team = access.team_or_404(request.user, team_id, manage=True)
    membership = get_object_or_404(TeamMembership, team=team, pk=membership_id)
    action = request.POST.get("action")
    try:
        if action == "remove":
            TeamMembership.objects.remove(membership)
            messages.success(request, "Member removed.")
        elif action in TeamRole.values:
            TeamMembership.objects.set_role(team, membership.user, action)
            messages.success(request, "Role changed.")
        else:
            messages.error(request, "Unknown action.")
    except LastAdminError as exc:
        messages.error(request, str(exc))
    return redirect("bugsink_issues:team", team_id=team.pk)


@login_required
@require_POST
def invitation_create(request, team_id):
    team = access.team_or_404(request.user, team_id, manage=True)
    form = InvitationForm(request.POST, team=team)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("bugsink_issues:team", team_id=team.pk)
    invitation = invitations.create(
        team, form.cleaned_data["email"], form.cleaned_data["role"], invited_by=request.user
    )
    link = invitations.link_for(invitation, request)
    days = app_settings.INVITATION_DAYS
    if not app_settings.INVITATION_EMAIL:
        messages.success(request, f"Invitation created (valid {days} days). Send this link: {link}")
    elif invitations.send(invitation, link):
        messages.success(
            request, f"Invitation e-mailed to {invitation.email} (valid {days} days): {link}"
        )
    else:
        messages.warning(
            request, f"The invitation could not be e-mailed; send this link yourself: {link}"
        )
    return redirect("bugsink_issues:team", team_id=team.pk)


@login_required
@require_POST
def invitation_revoke(request, team_id, invitation_id):
    team = access.team_or_404(request.user, team_id, manage=True)
    invitation = get_object_or_404(team.invitations.pending(), pk=invitation_id)
    invitation.delete()
    messages.success(request, f"The invitation for {invitation.email} no longer works.")
    return redirect("bugsink_issues:team", team_id=team.pk)


def invitation_accept(request, token):
    """Open to anyone with the link (the token is the secret); only the invited address joins."""
    invitation = Invitation.objects.filter(token=token).select_related("team", "invited_by").first()
    if invitation is None:
        raise Http404("This invitation does not exist (or was revoked).")
    user = request.user
    if user.is_authenticated and invitation.accepted_by_id == user.pk:
        return redirect("bugsink_issues:team", team_id=invitation.team_id)  # e.g. at sign-up
    context: dict[str, Any] = {"invitation": invitation}
    if invitation.is_used or invitation.is_expired:
        refusal = invitations.refusal_for(invitation, user)
        return _invitation_page(request, context, refusal, status=410)
    if not user.is_authenticated:
        invitations.remember(request, invitation)
        here = reverse("bugsink_issues:invitation", args=[token])
        has_account = invitations.address_has_account(invitation.email)
        signup = app_settings.SIGNUP_URL
        context.update(
            state="anonymous",
            has_account=has_account,
            login_url=_with_next(resolve_url(settings.LOGIN_URL), here),
            signup_url=_with_next(resolve_url(signup), here) if signup and not has_account else "",
        )
        return page(request, "bugsink_issues/teams/invitation.html", context)
    if request.method == "POST":
        try:
            invitations.accept(invitation, user)
        except invitations.InvitationRefused as refused:  # e.g. used since the page was read
            status = 403 if refused.reason == "address" else 410
            return _invitation_page(request, context, refused, status=status)
        invitations.forget(request)
        messages.success(request, f"You joined {invitation.team}.")
        return redirect("bugsink_issues:team", team_id=invitation.team_id)
    refusal = invitations.refusal_for(invitation, user)
    if refusal is not None:
        return _invitation_page(request, context, refusal, status=403)
    context["state"] = "join"
    return page(request, "bugsink_issues/teams/invitation.html", context)


def _pending_invitations(team, request):
    pending = list(team.invitations.pending())
    for invitation in pending:
        invitation.link = invitations.link_for(invitation, request)
    return pending


def _invitation_page(request, context, refusal, *, status):
    context.update(state=refusal.reason, refusal=refusal.message)
    return page(request, "bugsink_issues/teams/invitation.html", context, status=status)


def _with_next(url, next_path):
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'next': next_path})}"


@login_required
def preferences(request):
    prefs, _ = UserPreferences.objects.get_or_create(user=request.user)
    form = PreferencesForm(request.POST or None, instance=prefs)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Preferences saved.")
        return redirect("bugsink_issues:preferences")
    account_url = resolve_url(app_settings.ACCOUNT_URL) if app_settings.ACCOUNT_URL else ""
    return page(
        request, "bugsink_issues/preferences.html", {"form": form, "account_url": account_url}
    )
