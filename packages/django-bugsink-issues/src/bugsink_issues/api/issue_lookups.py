"""Issues and events addressed by a path, through the caller's visibility (what the caller may not
see is a 404, as in the UI).

An issue is named by its numeric id or its short id (`WEB-101`: Sentry's UI links and the Sentry
MCP server use both). An issue merged into another is followed to the issue it became, as Sentry
does with the ids of merged issues.
"""

from django.http import Http404

from bugsink_issues.api.organization import organization_or_404
from bugsink_issues.models import Issue
from bugsink_issues.models.issues import parse_short_id

__all__ = ["event_of_issue_or_404", "issue_or_404", "issues_named"]

_RELATED = ("project", "assigned_user", "assigned_team")


def _named(queryset, issue_id):
    issue_id = str(issue_id).strip()
    if issue_id.isdigit():
        return queryset.filter(pk=int(issue_id))
    parsed = parse_short_id(issue_id)
    if parsed is None:
        return queryset.none()
    slug, number = parsed
    return queryset.filter(project__slug__iexact=slug, number=number)


def issues_named(principal, ids):
    """The caller's visible issues among `ids` (numeric ids or short ids)."""
    base = principal.visible_issues()
    pks, short_ids = set(), []
    for raw in ids:
        raw = str(raw).strip()
        if raw.isdigit():
            pks.add(int(raw))
        elif parse_short_id(raw) is not None:
            short_ids.append(raw)
    for short_id in short_ids:
        pks.update(_named(base, short_id).values_list("pk", flat=True))
    return base.filter(pk__in=pks)


def issue_or_404(principal, issue_id, organization_slug=None):
    """The issue `issue_id` (an id or a short id) if the caller may see it."""
    if organization_slug is not None:
        organization_or_404(organization_slug)
    issue = _named(principal.visible_issues(), issue_id).select_related(*_RELATED).first()
    if issue is not None:
        return issue
    # A merged issue: the row it became (its target is in the same project, so just as visible).
    merged = (
        _named(Issue.including_merged.all(), issue_id)
        .filter(project__in=principal.visible_projects().values("pk"), merged_into__isnull=False)
        .values_list("merged_into_id", flat=True)
        .first()
    )
    if merged is not None:
        issue = principal.visible_issues().filter(pk=merged).select_related(*_RELATED).first()
        if issue is not None:
            return issue
    raise Http404(f"Issue {issue_id!r} not found.")


def event_of_issue_or_404(issue, event_id):
    """An event of `issue` by its SDK id, or `latest`, `oldest`, `recommended`."""
    events = issue.events.all()
    key = str(event_id).lower()
    if key == "latest":
        event = events.last_event()
    elif key == "oldest":
        event = events.first_event()
    elif key == "recommended":
        event = recommended_event(issue)
    else:
        event = events.with_event_id(key)
    if event is None:
        raise Http404(f"Event {event_id!r} not found.")
    return event


RECOMMENDED_AMONG = 50


def recommended_event(issue):
    """The fullest of the issue's latest events: the one with the largest payload among the last
    RECOMMENDED_AMONG (most context: stack, breadcrumbs, request), the newest on a tie."""
    recent = list(
        issue.events.order_by("-issue_sequence").values_list("pk", "payload_size")[
            :RECOMMENDED_AMONG
        ]
    )
    if not recent:
        return None
    best_pk = max(recent, key=lambda row: (row[1], row[0]))[0]
    return issue.events.get(pk=best_pk)
