"""A PUT on issues (one, or many at once) as lifecycle actions, in one transaction for all issues.

Sentry's body, our actions:
- status resolved (statusDetails inRelease / inNextRelease) or resolvedInNextRelease: resolve;
- status unresolved: reopen a resolved issue, unmute a muted one;
- status ignored (or muted, sentry-cli's older word): mute; for ignoreDuration minutes (also
  snoozeDuration, the older name), until ignoreCount events (within ignoreWindow minutes), or
  for ever;
- assignedTo: assign (a user or a team who can see the issue), '' or null unassigns;
- hasSeen: the caller has (not) seen the issues; merge: the issues become one.
Anything asked that this tracker cannot do is a 400 that says so, and nothing changes.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from bugsink_issues import lifecycle
from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.schemas.issues import assignee_out, sentry_status
from bugsink_issues.lifecycle.releases import latest_release
from bugsink_issues.models import IssueSeen, Team, TeamMembership
from bugsink_issues.models.issues import IssueStatus

__all__ = ["BULK_LIMIT", "apply_update", "assignee_from"]

# Sentry's own limit for bulk changes of an organization's issues.
BULK_LIMIT = 1000


def _teams_of(principal):
    if principal.user is None:
        return Team.objects.none()
    return Team.objects.visible_to(principal.user)


def _users_of(principal):
    """The users the caller can see in the UI: themselves and the members of their teams."""
    User = get_user_model()
    user = principal.user
    if user is None:
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    members = TeamMembership.objects.filter(team__in=_teams_of(principal)).values("user_id")
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=members))


def assignee_from(text, principal):
    """The user or Team an `assignedTo` value names, among those the caller can see (anyone else
    is unknown, so ids cannot be probed for names); None for '' (unassign)."""
    text = (text or "").strip()
    if not text:
        return None
    kind, sep, rest = text.partition(":")
    if (sep and kind == "team") or text.startswith("#"):
        wanted = rest if sep else text[1:].lower()
        team = next(
            (t for t in _teams_of(principal) if str(t.pk) == wanted or slugify(t.name) == wanted),
            None,
        )
        if team is None:
            raise ApiError(400, f"Unknown team {text!r}.")
        return team
    User = get_user_model()
    users = _users_of(principal)
    if sep and kind == "user":
        users = users.filter(pk=int(rest)) if rest.isdigit() else users.none()
    elif text == "me":
        users = users.filter(pk=getattr(principal.user, "pk", None))
    else:
        users = users.filter(
            Q(**{User.USERNAME_FIELD: text})
            | Q(email__iexact=text)
            | (Q(pk=int(text)) if text.isdigit() else Q(pk__in=[]))
        )
    found = users.order_by("pk").first()
    if found is None:
        raise ApiError(400, f"Unknown assignee {text!r}.")
    return found


def _mute_arguments(update):
    details = update.statusDetails
    minutes = update.ignoreDuration or update.snoozeDuration
    count = window = None
    if details is not None:
        if details.ignoreUserCount or details.ignoreUserWindow:
            raise ApiError(
                400,
                "Ignoring until a number of users is not supported: use ignoreCount (events) "
                "or ignoreDuration.",
            )
        minutes = details.ignoreDuration or minutes
        count, window = details.ignoreCount, details.ignoreWindow
    for name, value in (
        ("ignoreDuration", minutes),
        ("ignoreCount", count),
        ("ignoreWindow", window),
    ):
        if value is not None and value < 1:
            raise ApiError(400, f"{name} must be at least 1.")
    if window and not count:
        raise ApiError(400, "ignoreWindow needs ignoreCount.")
    return {
        "for_seconds": minutes * 60 if minutes else None,
        "event_count": count,
        "window_seconds": window * 60 if window else None,
    }


def _resolve_arguments(update, issues):
    details = update.statusDetails
    if update.status == "resolvedInNextRelease":
        return {"in_next_release": True}
    if details is None:
        return {}
    if details.inCommit:
        raise ApiError(400, "Resolving in a commit is not supported: use inRelease.")
    if details.inNextRelease:
        return {"in_next_release": True}
    if details.inRelease:
        version = details.inRelease
        if version == "latest":
            projects = {issue.project_id for issue in issues}
            versions = {latest_release(project_id) for project_id in projects}
            if len(versions) != 1 or None in versions:
                raise ApiError(400, "There is no latest release to resolve in.")
            version = versions.pop()
        return {"in_release": version[:250]}
    return {}


def _change_status(issues, update, user):
    status = update.status
    if status in ("resolved", "resolvedInNextRelease"):
        kwargs = _resolve_arguments(update, issues)
        if not kwargs:  # plain resolve: already-resolved issues stay as they are
            issues = [
                i for i in issues if i.status != IssueStatus.RESOLVED or i.resolved_in_release
            ]
        return lifecycle.bulk_resolve(issues, user=user, **kwargs)
    if status == "unresolved":
        lifecycle.bulk_reopen([i for i in issues if i.status == IssueStatus.RESOLVED], user=user)
        lifecycle.bulk_unmute([i for i in issues if i.status == IssueStatus.MUTED], user=user)
        return issues
    # ignored / muted
    kwargs = _mute_arguments(update)
    try:
        return lifecycle.bulk_mute(issues, user=user, **kwargs)
    except ValueError as exc:
        raise ApiError(400, str(exc))


def _refuse_unsupported(update):
    for name in ("isBookmarked", "isSubscribed", "isPublic"):
        if getattr(update, name):
            raise ApiError(400, f"{name} is not supported by this server.")
    if update.discard:
        raise ApiError(400, "Discarding issues is not supported: delete them instead.")


def apply_update(issues, update, principal):
    """Apply `update` (an IssueUpdateIn) to `issues` (a list); returns what changed, in Sentry's
    words (the body of a bulk PUT's answer). All issues change, or none."""
    _refuse_unsupported(update)
    user = principal.user
    changed: dict = {}
    with transaction.atomic():
        if update.merge:
            try:
                target = lifecycle.merge(issues, user=user)
            except lifecycle.MergeError as exc:
                raise ApiError(400, str(exc))
            children = [str(i.pk) for i in issues if i.pk != target.pk]
            changed["merge"] = {"parent": str(target.pk), "children": children}
            issues = [target]
        if update.status is not None:
            _change_status(issues, update, user)
        if "assignedTo" in update.model_fields_set:
            to = assignee_from(update.assignedTo, principal)
            try:
                for issue in issues:
                    lifecycle.assign(issue, to, user=user)
            except lifecycle.AssignmentError as exc:
                raise ApiError(400, str(exc))
        if update.hasSeen is not None:
            if user is None:
                raise ApiError(
                    400, "hasSeen needs a user token (an organization token has no user)."
                )
            for issue in issues:
                if update.hasSeen:
                    IssueSeen.objects.mark(issue, user)
                else:
                    IssueSeen.objects.unmark(issue, user)
            changed["hasSeen"] = update.hasSeen
    if issues and update.status is not None:
        first = type(issues[0]).objects.select_related("project").get(pk=issues[0].pk)
        status, substatus, details = sentry_status(first)
        changed.update(status=status, substatus=substatus, statusDetails=details)
    if "assignedTo" in update.model_fields_set and issues:
        first = (
            type(issues[0])
            .objects.select_related("assigned_user", "assigned_team")
            .get(pk=issues[0].pk)
        )
        changed["assignedTo"] = assignee_out(first)
    return changed
