"""The access policy on the HTTP side: who may act on what, and 404s for what a user may not see.

Which rows a user may see is decided by the model layer (`Issue.objects.visible_to(user)`,
`Team.objects.visible_to(user)`, `models.access.visible_projects(user)`); every view, action and
export goes through these functions, which build on it. An object the user may not see is a 404
(never a 403), so ids of other teams' projects, issues and events cannot be probed. A 403 is only
returned where the user can already see the object but may not change it (a team member, not an
admin, opening a team's or project's settings).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from bugsink_issues.models import Issue, Team
from bugsink_issues.models.access import visible_projects

__all__ = [
    "attachment_or_404",
    "can_create_project",
    "can_create_team",
    "can_manage_project",
    "event_or_404",
    "is_team_admin",
    "issue_or_404",
    "merged_target_id",
    "project_or_404",
    "team_or_404",
    "teams_for_projects",
]


def is_team_admin(user, team):
    return Team.objects.administered_by(user).filter(pk=team.pk).exists()


def can_manage_project(user, project):
    """Settings, keys, alert channels, deletion of a project: superusers and admins of its team."""
    if user.is_superuser:
        return True  # a project without a team too
    return Team.objects.administered_by(user).filter(project_links__project=project).exists()


def can_create_project(user):
    return user.is_superuser or Team.objects.administered_by(user).exists()


def teams_for_projects(user):
    """The teams `user` may give a project to (or create one in): those they administer; every
    team for a superuser."""
    return Team.objects.administered_by(user)


def can_create_team(user):
    """Creating teams is an installation-level decision: superusers only."""
    return user.is_superuser


def project_or_404(user, project_id, *, manage=False):
    project = visible_projects(user).filter(pk=project_id).first()
    if project is None:
        raise Http404("No such project.")
    if manage and not can_manage_project(user, project):
        raise PermissionDenied("Only admins of the project's team may change it.")
    return project


def team_or_404(user, team_id, *, manage=False):
    team = Team.objects.visible_to(user).filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team.")
    if manage and not is_team_admin(user, team):
        raise PermissionDenied("Only admins of this team may change it.")
    return team


def issue_or_404(user, issue_id):
    issue = Issue.objects.visible_to(user).filter(pk=issue_id).select_related("project").first()
    if issue is None:
        raise Http404("No such issue.")
    return issue


def merged_target_id(user, issue_id):
    """The id of the issue a merged issue became, if `user` may see it (its old links lead there);
    None for an issue that was not merged."""
    return (
        Issue.including_merged.visible_to(user)
        .filter(pk=issue_id, merged_into__isnull=False)
        .values_list("merged_into_id", flat=True)
        .first()
    )


def event_or_404(issue, event_pk):
    """An event of an issue the caller already got through issue_or_404."""
    event = issue.events.filter(pk=event_pk).first()
    if event is None:
        raise Http404("No such event.")
    return event


def attachment_or_404(event, attachment_id):
    """An attachment of an event the caller already got through event_or_404."""
    attachment = event.attachments.filter(pk=attachment_id).defer("data").first()
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment
