"""The access policy: the one place that decides who may see or act on what.

Every view, action and export goes through these functions. An object the user may not see is a 404
(never a 403), so ids of other teams' projects, issues and events cannot be probed. A 403 is only
returned where the user can already see the object but may not change it (a team member, not an
admin, opening a team's or project's settings).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from bugsink_ingest.models import Project
from bugsink_issues.models import Event, Issue
from bugsink_issues.models.access import Team, TeamMembership, TeamRole


def visible_projects(user):
    """The projects `user` may see: those of their teams; every project for a superuser."""
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(team_link__team__memberships__user=user)


def visible_teams(user):
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)


def is_team_admin(user, team):
    if user.is_superuser:
        return True
    return TeamMembership.objects.filter(team=team, user=user, role=TeamRole.ADMIN).exists()


def can_manage_project(user, project):
    """Settings, keys, alert channels, deletion of a project: superusers and admins of its team."""
    if user.is_superuser:
        return True
    return TeamMembership.objects.filter(
        team__project_links__project=project, user=user, role=TeamRole.ADMIN
    ).exists()


def can_create_project(user):
    return (
        user.is_superuser or TeamMembership.objects.filter(user=user, role=TeamRole.ADMIN).exists()
    )


def project_or_404(user, project_id, *, manage=False):
    project = visible_projects(user).filter(pk=project_id).first()
    if project is None:
        raise Http404("No such project.")
    if manage and not can_manage_project(user, project):
        raise PermissionDenied("Only admins of the project's team may change it.")
    return project


def team_or_404(user, team_id, *, manage=False):
    team = visible_teams(user).filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team.")
    if manage and not is_team_admin(user, team):
        raise PermissionDenied("Only admins of this team may change it.")
    return team


def visible_issues(user):
    return Issue.objects.filter(project__in=visible_projects(user).values("pk"))


def issue_or_404(user, issue_id):
    issue = visible_issues(user).filter(pk=issue_id).select_related("project").first()
    if issue is None:
        raise Http404("No such issue.")
    return issue


def event_or_404(user, issue, event_pk):
    """An event of an issue the caller already got through issue_or_404."""
    event = Event.objects.filter(issue=issue, pk=event_pk).first()
    if event is None:
        raise Http404("No such event.")
    return event
