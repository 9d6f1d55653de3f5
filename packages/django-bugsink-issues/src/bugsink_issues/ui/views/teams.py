from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

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
            "invitations": team.invitations.filter(accepted_at__isnull=True) if is_admin else [],
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
    form = InvitationForm(request.POST)
    if form.is_valid():
        invitation = form.save(commit=False)
        invitation.team = team
        invitation.invited_by = request.user
        invitation.save()
        link = request.build_absolute_uri(
            reverse("bugsink_issues:invitation", args=[invitation.token])
        )
        messages.success(request, f"Invitation created. Send this link: {link}")
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("bugsink_issues:team", team_id=team.pk)


@login_required
def invitation_accept(request, token):
    invitation = (
        Invitation.objects.filter(token=token, accepted_at__isnull=True)
        .select_related("team")
        .first()
    )
    if invitation is None:
        raise Http404("This invitation does not exist or was used already.")
    if request.method == "POST":
        with transaction.atomic():
            TeamMembership.objects.get_or_create(
                team=invitation.team, user=request.user, defaults={"role": invitation.role}
            )
            invitation.accepted_at = timezone.now()
            invitation.save(update_fields=["accepted_at"])
        messages.success(request, f"You joined {invitation.team}.")
        return redirect("bugsink_issues:team", team_id=invitation.team_id)
    return page(request, "bugsink_issues/teams/invitation.html", {"invitation": invitation})


@login_required
def preferences(request):
    prefs, _ = UserPreferences.objects.get_or_create(user=request.user)
    form = PreferencesForm(request.POST or None, instance=prefs)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Preferences saved.")
        return redirect("bugsink_issues:preferences")
    return page(request, "bugsink_issues/preferences.html", {"form": form})
