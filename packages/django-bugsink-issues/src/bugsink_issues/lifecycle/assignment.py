"""Who works on an issue: a user or a team, or nobody.

An issue can only be given to someone who can see it: a user who may see the issue's project, or
the project's own team.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from bugsink_issues import signals
from bugsink_issues.lifecycle.history import record, send_on_commit
from bugsink_issues.models import Issue, ProjectTeam, Team
from bugsink_issues.models.access import visible_projects
from bugsink_issues.models.issues import HistoryKind

__all__ = ["AssignmentError", "assign", "can_be_assigned", "describe_assignee"]


class AssignmentError(ValueError):
    """The issue cannot be given to this user or team."""


def describe_assignee(assignee):
    if assignee is None:
        return "nobody"
    if isinstance(assignee, Team):
        return f"team {assignee.name}"
    return assignee.get_full_name() or assignee.get_username()


def can_be_assigned(issue, assignee):
    """May `assignee` (a user or a team) be given `issue`?"""
    if isinstance(assignee, Team):
        return ProjectTeam.objects.filter(project_id=issue.project_id, team=assignee).exists()
    if isinstance(assignee, AbstractBaseUser):
        return (
            assignee.is_active and visible_projects(assignee).filter(pk=issue.project_id).exists()
        )
    return False


@transaction.atomic
def assign(issue, to, *, user=None, comment=""):
    """Assign `issue` to `to` (a user or a Team; None: unassign). AssignmentError if `to` may not
    see the issue. Assigning to the current assignee changes nothing and records nothing."""
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    if to is not None and not can_be_assigned(issue, to):
        who = f"The team {to.name}" if isinstance(to, Team) else describe_assignee(to)
        raise AssignmentError(f"{who} cannot see this issue's project.")
    if issue.assignee == to:
        return issue
    issue.assigned_user = to if to is not None and not isinstance(to, Team) else None
    issue.assigned_team = to if isinstance(to, Team) else None
    issue.save(update_fields=["assigned_user", "assigned_team"])
    if to is None:
        kind, reason = HistoryKind.UNASSIGNED, "unassigned"
    else:
        kind, reason = HistoryKind.ASSIGNED, f"assigned to {describe_assignee(to)}"
    record(issue, kind, user=user, reason=reason, comment=comment)
    send_on_commit(signals.issue_assigned, issue, user=user, reason=reason, assignee=to)
    return issue
