from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from bugsink_ingest.dsn import dsn_for_key
from bugsink_ingest.models import ProjectKey
from bugsink_issues.conf import app_settings
from bugsink_issues.lifecycle import retention
from bugsink_issues.lifecycle.tasks import enforce_retention_after_change
from bugsink_issues.models import AlertChannel, ProjectSettings
from bugsink_issues.models.access import ProjectTeam, visible_projects
from bugsink_issues.models.issues import IssueStatus
from bugsink_issues.ui import access
from bugsink_issues.ui.forms import (
    AlertChannelForm,
    ProjectCreateForm,
    ProjectForm,
    ProjectSettingsForm,
    ProjectTeamForm,
)
from bugsink_issues.ui.login import login_required
from bugsink_issues.ui.views.common import page
from bugsink_issues.ui.volume import daily_counts, sparkline_svg


@login_required
def project_list(request):
    projects = list(
        visible_projects(request.user)
        .select_related("team_link__team")
        .annotate(open_issues=Count("issues", filter=Q(issues__status=IssueStatus.UNRESOLVED)))
        .order_by("name")
    )
    volume = daily_counts("project_id", [p.pk for p in projects], app_settings.UI_SPARKLINE_DAYS)
    rows = [(p, sparkline_svg(volume[p.pk])) for p in projects]
    return page(
        request,
        "bugsink_issues/projects/list.html",
        {
            "rows": rows,
            "can_create": access.can_create_project(request.user),
            "without_team": sum(1 for p in projects if not hasattr(p, "team_link")),
        },
    )


@login_required
def project_create(request):
    if not access.can_create_project(request.user):
        raise PermissionDenied("Only team admins create projects.")
    form = ProjectCreateForm(request.POST or None, teams=access.teams_for_projects(request.user))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            project = form.save()
            ProjectTeam.objects.create(project=project, team=form.cleaned_data["team"])
            ProjectKey.objects.create(project=project, label="default")
        messages.success(request, "Project created. Set up an SDK with the DSN below.")
        return redirect("bugsink_issues:project_setup", project_id=project.pk)
    return page(request, "bugsink_issues/projects/create.html", {"form": form})


@login_required
def project_setup(request, project_id):
    project = access.project_or_404(request.user, project_id)
    keys = [(key, dsn_for_key(key)) for key in project.keys.order_by("-is_active", "pk")]
    active = [dsn for key, dsn in keys if key.is_active]
    return page(
        request,
        "bugsink_issues/projects/setup.html",
        {
            "project": project,
            "keys": keys,
            "dsn": active[0] if active else "",
            "can_manage": access.can_manage_project(request.user, project),
        },
    )


@login_required
@require_POST
def project_key_create(request, project_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    ProjectKey.objects.create(project=project, label=request.POST.get("label", "")[:200])
    messages.success(request, "New key created.")
    return redirect("bugsink_issues:project_setup", project_id=project.pk)


@login_required
@require_POST
def project_key_deactivate(request, project_id, key_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    key = get_object_or_404(ProjectKey, project=project, pk=key_id)
    key.is_active = False
    key.save(update_fields=["is_active"])
    messages.success(request, "Key deactivated: SDKs using it are refused from now on.")
    return redirect("bugsink_issues:project_setup", project_id=project.pk)


@login_required
@require_POST
def project_key_reactivate(request, project_id, key_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    key = get_object_or_404(ProjectKey, project=project, pk=key_id)
    key.is_active = True
    key.save(update_fields=["is_active"])
    messages.success(request, "Key reactivated: SDKs using it are accepted again.")
    return redirect("bugsink_issues:project_setup", project_id=project.pk)


@login_required
@require_POST
def project_team(request, project_id):
    """Give the project to a team, or move it to another: superusers, or admins of both teams."""
    project = access.project_or_404(request.user, project_id, manage=True)
    form = ProjectTeamForm(request.POST, teams=access.teams_for_projects(request.user))
    if form.is_valid():
        team = form.cleaned_data["team"]
        ProjectTeam.objects.assign(project, team)
        messages.success(request, f"{project.name} belongs to the team {team.name} now.")
    else:
        messages.error(request, "Choose one of the teams you are an admin of.")
    return redirect("bugsink_issues:project_settings", project_id=project.pk)


@login_required
def project_settings(request, project_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    issue_settings = ProjectSettings.objects.for_project(project.pk)
    limits_before = retention.limits_of(issue_settings)  # the forms change the instance
    data = request.POST if request.method == "POST" else None
    form = ProjectForm(data, instance=project, prefix="project")
    settings_form = ProjectSettingsForm(data, instance=issue_settings, prefix="settings")
    if data is not None and form.is_valid() and settings_form.is_valid():
        with transaction.atomic():
            form.save()
            settings_form.save()
            enforce_retention_after_change(issue_settings, limits_before)
        messages.success(request, "Settings saved.")
        return redirect("bugsink_issues:project_settings", project_id=project.pk)
    return page(
        request,
        "bugsink_issues/projects/settings.html",
        {
            "project": project,
            "form": form,
            "settings_form": settings_form,
            "channels": project.alert_channels.all(),
            "team": getattr(getattr(project, "team_link", None), "team", None),
            "team_form": ProjectTeamForm(
                teams=access.teams_for_projects(request.user),
                initial={"team": getattr(getattr(project, "team_link", None), "team_id", None)},
            ),
            "channel_form": AlertChannelForm(prefix="channel"),
            "client_reports": project.client_reports.all()[:100],
        },
    )


@login_required
@require_POST
def channel_create(request, project_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    form = AlertChannelForm(request.POST, prefix="channel")
    if form.is_valid():
        channel = form.save(commit=False)
        channel.project = project
        channel.save()
        messages.success(request, "Alert channel added.")
    else:
        errors = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        messages.error(request, f"Alert channel not added: {errors}")
    return redirect("bugsink_issues:project_settings", project_id=project.pk)


@login_required
@require_POST
def channel_test(request, project_id, channel_id):
    from bugsink_issues.alerts import send_test

    project = access.project_or_404(request.user, project_id, manage=True)
    channel = get_object_or_404(AlertChannel, project=project, pk=channel_id)
    delivery = send_test(channel)
    status = getattr(delivery, "status", "")
    detail = getattr(delivery, "error", "") or ""
    level = messages.SUCCESS if status == "sent" else messages.ERROR
    messages.add_message(request, level, f"Test alert: {status or 'done'}. {detail}".strip())
    return redirect("bugsink_issues:project_settings", project_id=project.pk)


@login_required
@require_POST
def channel_delete(request, project_id, channel_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    get_object_or_404(AlertChannel, project=project, pk=channel_id).delete()
    messages.success(request, "Alert channel removed.")
    return redirect("bugsink_issues:project_settings", project_id=project.pk)
