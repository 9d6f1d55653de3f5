"""Events: an issue's events (and its latest, oldest and recommended one), a project's events, one
event by id, the look-up of an event id across projects, and an issue's hashes (grouping keys).

    GET /organizations/{org}/issues/{issue_id}/events/                 (the MCP server's search)
    GET /organizations/{org}/issues/{issue_id}/events/{event_id}/      id, latest, oldest, recommended
    GET /organizations/{org}/issues/{issue_id}/hashes/
    GET /projects/{org}/{project}/events/                              sentry-cli events list
    GET /projects/{org}/{project}/events/{event_id}/
    GET /organizations/{org}/eventids/{event_id}/
and the older paths under /issues/{issue_id}/. Issue events need event:read; a project's events
project:read or event:read, as in Sentry's reference.
"""

from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.event_entries import event_detail, event_list_item
from bugsink_issues.api.issue_lookups import event_of_issue_or_404, issue_or_404
from bugsink_issues.api.lookups import project_or_404
from bugsink_issues.api.organization import organization_or_404
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.query import QueryError, apply_event_query, parse_period
from bugsink_issues.api.schemas.events import EventDetailOut, EventListItemOut
from bugsink_issues.api.schemas.lookups import EventIdOut
from bugsink_issues.digest.storage import load_payload
from bugsink_issues.models import Event, Release, UserFeedback

router = Router(tags=["events"])

ISSUE_READ = scoped("event:read")
PROJECT_READ = scoped("project:read", "event:read")
ISSUE_SORTS = {"-timestamp": "-issue_sequence", "timestamp": "issue_sequence"}
ANY_EVENTS = list[EventListItemOut | EventDetailOut]


def _windowed(qs, stats_period, start, end):
    try:
        if stats_period:
            qs = qs.filter(timestamp__gte=timezone.now() - parse_period(stats_period))
    except QueryError as exc:
        raise ApiError(400, str(exc))
    if start:
        qs = qs.filter(timestamp__gte=start)
    if end:
        qs = qs.filter(timestamp__lte=end)
    return qs


def _searched(qs, query, environment):
    try:
        if query:
            qs = apply_event_query(qs, query)
    except QueryError as exc:
        raise ApiError(400, f"Invalid query: {exc}")
    if environment:
        qs = qs.filter(environment__in=environment)
    return qs


def _items(events, full):
    out = []
    for event in events:
        data = load_payload(event)
        out.append(event_detail(event, data) if full else event_list_item(event, data))
    return out


def _detail(event, *, navigate=True):
    """An event's detail with its release, its neighbours within its issue and its feedback."""
    data = load_payload(event)
    release = (
        Release.objects.filter(project_id=event.project_id, version=event.release).first()
        if event.release
        else None
    )
    previous_id = next_id = None
    if navigate:
        events = Event.objects.filter(issue_id=event.issue_id).only(
            "id", "event_id", "issue_sequence"
        )
        previous, following = events.previous_event(event), events.next_event(event)
        previous_id = previous.event_id if previous else None
        next_id = following.event_id if following else None
    feedback = (
        UserFeedback.objects.filter(project_id=event.project_id, associated_event_id=event.event_id)
        .order_by("-received_at")
        .first()
    )
    return event_detail(
        event,
        data,
        release=release,
        previous_id=previous_id,
        next_id=next_id,
        feedback=_feedback_summary(feedback),
    )


def _feedback_summary(row):
    if row is None:
        return None
    return {
        "id": str(row.pk),
        "eventID": row.associated_event_id,
        "name": row.name,
        "email": row.email,
        "comments": row.message,
        "dateCreated": row.received_at.isoformat(),
    }


# --- an issue's events -----------------------------------------------------------------------


def _issue_events(request, response, issue, query, environment, full, sort, period, start, end):
    if sort not in ISSUE_SORTS:
        raise ApiError(400, "sort is -timestamp or timestamp.")
    qs = issue.events.order_by(ISSUE_SORTS[sort]).select_related("grouping")
    qs = _windowed(_searched(qs, query, environment), period, start, end)
    return _items(paginate(request, response, qs), full)


@router.get(
    "/organizations/{org}/issues/{issue_id}/events/",
    response=ANY_EVENTS,
    auth=ISSUE_READ,
    by_alias=True,
    summary="List an issue's events",
)
def issue_events(
    request,
    response: HttpResponse,
    org: str,
    issue_id: str,
    query: str | None = Query(
        None, description="environment:, release:, level:, transaction:, user:, free text."
    ),
    environment: list[str] = Query([]),
    full: bool = Query(False, description="The whole event (entries and all) per item."),
    sort: str = Query("-timestamp", description="-timestamp (newest first) or timestamp."),
    statsPeriod: str | None = None,
    start: str | None = None,
    end: str | None = None,
    cursor: str = "",
    per_page: int | None = None,
):
    issue = issue_or_404(request.auth, issue_id, org)
    return _issue_events(
        request, response, issue, query, environment, full, sort, statsPeriod, start, end
    )


@router.get(
    "/organizations/{org}/issues/{issue_id}/events/{event_id}/",
    response=EventDetailOut,
    auth=ISSUE_READ,
    by_alias=True,
    summary="Retrieve an issue event",
)
def issue_event(request, org: str, issue_id: str, event_id: str):
    """`event_id`: the SDK's event id, or `latest`, `oldest` or `recommended`."""
    issue = issue_or_404(request.auth, issue_id, org)
    return _detail(event_of_issue_or_404(issue, event_id))


@router.get(
    "/issues/{issue_id}/events/",
    response=ANY_EVENTS,
    auth=ISSUE_READ,
    by_alias=True,
    summary="List an issue's events",
)
def issue_events_legacy(
    request,
    response: HttpResponse,
    issue_id: str,
    query: str | None = None,
    environment: list[str] = Query([]),
    full: bool = False,
    sort: str = "-timestamp",
    statsPeriod: str | None = None,
    start: str | None = None,
    end: str | None = None,
    cursor: str = "",
    per_page: int | None = None,
):
    issue = issue_or_404(request.auth, issue_id)
    return _issue_events(
        request, response, issue, query, environment, full, sort, statsPeriod, start, end
    )


@router.get(
    "/issues/{issue_id}/events/{event_id}/",
    response=EventDetailOut,
    auth=ISSUE_READ,
    by_alias=True,
    summary="Retrieve an issue event",
)
def issue_event_legacy(request, issue_id: str, event_id: str):
    issue = issue_or_404(request.auth, issue_id)
    return _detail(event_of_issue_or_404(issue, event_id))


# --- hashes ----------------------------------------------------------------------------------


class GroupingExplanationOut(Schema):
    version: int
    kind: str
    parts: list
    description: str


class HashOut(Schema):
    id: str
    latestEvent: EventDetailOut | None
    explanation: GroupingExplanationOut


def _hashes(request, response, issue):
    groupings = paginate(request, response, issue.groupings.order_by("created_at", "pk"))
    out = []
    for grouping in groupings:
        latest = Event.objects.filter(grouping=grouping).order_by("-id").first()
        parts = grouping.parts if isinstance(grouping.parts, dict) else {}
        out.append(
            {
                "id": grouping.key,
                "latestEvent": _detail(latest, navigate=False) if latest else None,
                "explanation": {
                    "version": grouping.version,
                    "kind": str(parts.get("kind", "")),
                    "parts": parts.get("parts") if isinstance(parts.get("parts"), list) else [],
                    "description": str(parts.get("description", "")),
                },
            }
        )
    return out


@router.get(
    "/organizations/{org}/issues/{issue_id}/hashes/",
    response=list[HashOut],
    auth=ISSUE_READ,
    by_alias=True,
    summary="List an issue's hashes",
)
def issue_hashes(request, response: HttpResponse, org: str, issue_id: str):
    """The grouping keys that lead to this issue, with what each was computed from (why these
    events are one issue) and the latest event that had it."""
    return _hashes(request, response, issue_or_404(request.auth, issue_id, org))


@router.get(
    "/issues/{issue_id}/hashes/",
    response=list[HashOut],
    auth=ISSUE_READ,
    by_alias=True,
    summary="List an issue's hashes",
)
def issue_hashes_legacy(request, response: HttpResponse, issue_id: str):
    return _hashes(request, response, issue_or_404(request.auth, issue_id))


# --- a project's events ----------------------------------------------------------------------


@router.get(
    "/projects/{org}/{project}/events/",
    response=ANY_EVENTS,
    auth=PROJECT_READ,
    by_alias=True,
    summary="List a project's error events",
)
def project_events(
    request,
    response: HttpResponse,
    org: str,
    project: str,
    query: str | None = None,
    full: bool = False,
    statsPeriod: str | None = None,
    start: str | None = None,
    end: str | None = None,
    cursor: str = "",
    per_page: int | None = None,
):
    found = project_or_404(request.auth, org, project)
    qs = (
        Event.objects.filter(project=found).order_by("-timestamp", "-id").select_related("grouping")
    )
    qs = _windowed(_searched(qs, query, None), statsPeriod, start, end)
    return _items(paginate(request, response, qs), full)


@router.get(
    "/projects/{org}/{project}/events/{event_id}/",
    response=EventDetailOut,
    auth=PROJECT_READ,
    by_alias=True,
    summary="Retrieve an event for a project",
)
def project_event(request, org: str, project: str, event_id: str):
    found = project_or_404(request.auth, org, project)
    event = Event.objects.filter(project=found).with_event_id(event_id)
    if event is None:
        raise Http404(f"Event {event_id!r} not found.")
    return _detail(event)


@router.get(
    "/organizations/{org}/eventids/{event_id}/",
    response=EventIdOut,
    auth=scoped("event:read", "project:read"),
    by_alias=True,
    summary="Resolve an event ID",
)
def resolve_event_id(request, org: str, event_id: str):
    organization_or_404(org)
    projects = request.auth.visible_projects()
    event = (
        Event.objects.filter(project__in=projects.values("pk"))
        .select_related("project")
        .with_event_id(event_id)
    )
    if event is None:
        raise Http404(f"Event {event_id!r} not found.")
    return {
        "organizationSlug": org,
        "projectSlug": event.project.slug,
        "groupId": str(event.issue_id),
        "eventId": event.event_id,
        "event": _detail(event),
    }
