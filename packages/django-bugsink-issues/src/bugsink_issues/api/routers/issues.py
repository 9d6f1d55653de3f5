"""Issues: the lists of a project and of the organization (with Sentry's search syntax), changing
one or many, deleting, one issue's detail, and short ids.

    GET|PUT|DELETE /projects/{org}/{project}/issues/       sentry-cli issues list/resolve/mute/...
    GET|PUT|DELETE /organizations/{org}/issues/            the MCP server's search_issues
    GET|PUT|DELETE /organizations/{org}/issues/{issue_id}/ (and the older /issues/{issue_id}/)
    GET            /organizations/{org}/shortids/{short_id}/

`issue_id` is a numeric id or a short id (WEB-101). Reads need event:read, changes event:write,
deleting event:admin.
"""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from bugsink_issues import lifecycle
from bugsink_issues.api.auth import scoped
from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.issue_lookups import issue_or_404, issues_named
from bugsink_issues.api.issue_updates import BULK_LIMIT, apply_update
from bugsink_issues.api.lookups import project_or_404
from bugsink_issues.api.organization import organization_or_404, public_base_url
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.query import QueryError, apply_query, parse_period, parse_query
from bugsink_issues.api.schemas.issues import (
    IssueDetailOut,
    IssueOut,
    IssuePage,
    IssueUpdateIn,
    IssueUpdateOut,
)
from bugsink_issues.api.schemas.lookups import ShortIdOut
from bugsink_issues.api.stats import STATS_PERIODS
from bugsink_issues.models import Issue, IssueTagValue

router = Router(tags=["issues"])

READ = scoped("event:read")
WRITE = scoped("event:write")
ADMIN = scoped("event:admin")

DEFAULT_QUERY = "is:unresolved"
SORTS = {
    "date": "-last_seen",
    "new": "-first_seen",
    "freq": "-event_count",
    "user": "-user_count",
    # Sentry's ranking sorts have no equivalent here: they list as `date` does.
    "priority": "-last_seen",
    "trends": "-last_seen",
    "inbox": "-last_seen",
}
PROJECT_STATS_PERIODS = ("", "24h", "14d")
_RELATED = ("project", "assigned_user", "assigned_team")


def _sorted(qs, sort):
    if sort not in SORTS:
        raise ApiError(400, f"Invalid sort {sort!r}: one of {', '.join(SORTS)}.")
    if sort == "user":
        users = (
            IssueTagValue.objects.filter(issue_id=OuterRef("pk"), key="user")
            .values("issue_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        qs = qs.annotate(user_count=Coalesce(Subquery(users), 0))
    # The tie-break runs with the index: an index entry ends with the row id, ascending.
    return qs.order_by(SORTS[sort], "id")


def _searched(request, qs, query, environments, project_ids):
    """`qs` (issues of `project_ids`) narrowed by `query` (None: the default is:unresolved) and
    `environment` values."""
    try:
        parsed = parse_query(DEFAULT_QUERY if query is None else query)
        qs = apply_query(qs, parsed, user=request.auth.user, project_ids=project_ids)
        if environments:
            values = ",".join(e.replace(",", " ") for e in environments)
            qs = apply_query(qs, f"environment:[{values}]", project_ids=project_ids)
    except QueryError as exc:
        raise ApiError(400, f"Invalid query: {exc}")
    return qs


def _page_response(request, response, qs, *, stats_period, sort, project=None):
    """A page of `qs` as issue answers. `project`: the one project all of them belong to (its row
    is then shared, not joined and built once per issue)."""
    related = ("assigned_user", "assigned_team") if project is not None else _RELATED
    page = paginate(request, response, _sorted(qs.select_related(*related), sort))
    if project is not None:
        for issue in page:
            issue.project = project
    return IssuePage(
        page, principal=request.auth, base_url=public_base_url(request), stats_period=stats_period
    ).outs()


def _org_issues(request, project, environment, query, stats_period, start, end):
    projects = request.auth.visible_projects()
    wanted = [p for p in project if p not in ("-1", "")]
    if wanted:
        ids = [int(p) for p in wanted if p.isdigit()]
        slugs = [p for p in wanted if not p.isdigit()]
        projects = projects.filter(pk__in=ids) | projects.filter(slug__in=slugs)
    # The ids as a list: SQLite plans `project_id IN (1, 2)` far better than a subquery.
    project_ids = list(projects.values_list("pk", flat=True))
    qs = Issue.objects.filter(project_id__in=project_ids)
    qs = _searched(request, qs, query, environment, project_ids)
    try:
        if stats_period:
            qs = qs.filter(last_seen__gte=timezone.now() - parse_period(stats_period))
    except QueryError as exc:
        raise ApiError(400, str(exc))
    if start:
        qs = qs.filter(last_seen__gte=start)
    if end:
        qs = qs.filter(first_seen__lte=end)
    return qs


def _group_stats_period(value):
    value = "24h" if value in (None, "auto") else value
    if value and value not in STATS_PERIODS:
        raise ApiError(400, f"Invalid groupStatsPeriod {value!r}: '', '24h', '14d' or 'auto'.")
    return value


def _bulk_targets(request, qs, ids, status, update=None):
    """The issues a bulk change applies to: those named by `id`, or, for status changes without
    ids, every issue of `qs` (a project's, or the organization's search)."""
    if ids:
        qs = qs.filter(pk__in=issues_named(request.auth, ids).values("pk"))
    elif update is not None and (update.status is None or update.merge):
        raise ApiError(400, "Name the issues with `id`: only status changes apply to all issues.")
    if status:
        try:
            qs = apply_query(qs, f"is:{status}")
        except QueryError as exc:
            raise ApiError(400, str(exc))
    targets = list(qs.select_related(*_RELATED).order_by("pk")[: BULK_LIMIT + 1])
    if len(targets) > BULK_LIMIT:
        raise ApiError(
            400,
            f"More than {BULK_LIMIT} issues match: change at most {BULK_LIMIT} at once "
            "(narrow the query or name them with `id`).",
        )
    return targets


# --- a project's issues ----------------------------------------------------------------------


@router.get(
    "/projects/{org}/{project}/issues/",
    response=list[IssueOut],
    auth=READ,
    summary="List a project's issues",
)
def project_issues(
    request,
    response: HttpResponse,
    org: str,
    project: str,
    query: str | None = Query(None, description="Sentry's search syntax; absent: is:unresolved."),
    sort: str = Query("date", description="date, new, freq or user."),
    statsPeriod: str = Query("24h", description="'', '24h' or '14d': the `stats` buckets."),
    environment: list[str] = Query([]),
    shortIdLookup: bool = False,
    cursor: str = "",
    per_page: int | None = None,
    limit: int | None = None,
):
    found = project_or_404(request.auth, org, project)
    if statsPeriod not in PROJECT_STATS_PERIODS:
        raise ApiError(400, "Invalid statsPeriod: '', '24h' or '14d'.")
    # The project is the caller's to see: its issues need no visibility subquery, which kept
    # SQLite from reading them in order through the (project, sort column) index.
    qs = Issue.objects.filter(project=found)
    qs = _searched(request, qs, query, environment, [found.pk])
    return _page_response(request, response, qs, stats_period=statsPeriod, sort=sort, project=found)


@router.put(
    "/projects/{org}/{project}/issues/",
    response={200: IssueUpdateOut, 204: None},
    auth=WRITE,
    exclude_unset=True,
    summary="Bulk mutate a list of issues",
)
def project_issues_update(
    request,
    org: str,
    project: str,
    payload: IssueUpdateIn,
    id: list[str] = Query([], description="The issues to change; none: all (status changes)."),
    status: str | None = Query(None, description="Only issues of this status."),
):
    found = project_or_404(request.auth, org, project)
    qs = request.auth.visible_issues().filter(project=found)
    targets = _bulk_targets(request, qs, id, status, payload)
    if not targets:
        return Status(204, None)
    return Status(200, apply_update(targets, payload, request.auth))


@router.delete(
    "/projects/{org}/{project}/issues/",
    response={204: None},
    auth=ADMIN,
    summary="Bulk remove a list of issues",
)
def project_issues_delete(
    request,
    org: str,
    project: str,
    id: list[str] = Query([], description="The issues to delete (required)."),
):
    found = project_or_404(request.auth, org, project)
    if not id:
        raise ApiError(400, "Name the issues to delete with `id`.")
    qs = request.auth.visible_issues().filter(project=found)
    lifecycle.bulk_delete(_bulk_targets(request, qs, id, None), user=request.auth.user)
    return Status(204, None)


# --- the organization's issues ---------------------------------------------------------------


@router.get(
    "/organizations/{org}/issues/",
    response=list[IssueOut],
    auth=READ,
    summary="List an organization's issues",
)
def organization_issues(
    request,
    response: HttpResponse,
    org: str,
    query: str | None = Query(None, description="Sentry's search syntax; absent: is:unresolved."),
    sort: str = Query("date", description="date, new, freq or user."),
    project: list[str] = Query([], description="Project ids or slugs; -1 or none: all."),
    environment: list[str] = Query([]),
    statsPeriod: str | None = Query(
        None, description="Only issues seen within it (24h, 14d, 30m, 2w, ...)."
    ),
    start: str | None = None,
    end: str | None = None,
    groupStatsPeriod: str | None = Query(None, description="'', '24h', '14d' or 'auto'."),
    collapse: list[str] = Query([], description="'stats' leaves the stats out."),
    shortIdLookup: bool = False,
    cursor: str = "",
    per_page: int | None = None,
    limit: int | None = None,
):
    organization_or_404(org)
    qs = _org_issues(request, project, environment, query, statsPeriod, start, end)
    period = "" if "stats" in collapse else _group_stats_period(groupStatsPeriod)
    return _page_response(request, response, qs, stats_period=period, sort=sort)


@router.put(
    "/organizations/{org}/issues/",
    response={200: IssueUpdateOut, 204: None},
    auth=WRITE,
    exclude_unset=True,
    summary="Bulk mutate an organization's issues",
)
def organization_issues_update(
    request,
    org: str,
    payload: IssueUpdateIn,
    id: list[str] = Query([]),
    project: list[str] = Query([]),
    environment: list[str] = Query([]),
    query: str | None = None,
    status: str | None = None,
):
    organization_or_404(org)
    if id:
        qs = request.auth.visible_issues()
    else:
        qs = _org_issues(request, project, environment, query, None, None, None)
    targets = _bulk_targets(request, qs, id, status, payload)
    if not targets:
        return Status(204, None)
    return Status(200, apply_update(targets, payload, request.auth))


@router.delete(
    "/organizations/{org}/issues/",
    response={204: None},
    auth=ADMIN,
    summary="Bulk remove an organization's issues",
)
def organization_issues_delete(request, org: str, id: list[str] = Query([])):
    organization_or_404(org)
    if not id:
        raise ApiError(400, "Name the issues to delete with `id`.")
    targets = _bulk_targets(request, request.auth.visible_issues(), id, None)
    lifecycle.bulk_delete(targets, user=request.auth.user)
    return Status(204, None)


# --- one issue -------------------------------------------------------------------------------


def _detail(request, issue):
    page = IssuePage(
        [issue], principal=request.auth, base_url=public_base_url(request), stats_period="24h"
    )
    return page.detail(issue)


@router.get(
    "/organizations/{org}/issues/{issue_id}/",
    response=IssueDetailOut,
    auth=READ,
    summary="Retrieve an issue",
)
def issue_detail(request, org: str, issue_id: str):
    return _detail(request, issue_or_404(request.auth, issue_id, org))


@router.put(
    "/organizations/{org}/issues/{issue_id}/",
    response=IssueDetailOut,
    auth=WRITE,
    summary="Update an issue",
)
def issue_update(request, org: str, issue_id: str, payload: IssueUpdateIn):
    issue = issue_or_404(request.auth, issue_id, org)
    if payload.merge:
        raise ApiError(400, "Merge issues through PUT .../issues/?id=...&id=... with merge: 1.")
    apply_update([issue], payload, request.auth)
    return _detail(request, issue_or_404(request.auth, str(issue.pk)))


@router.delete(
    "/organizations/{org}/issues/{issue_id}/",
    response={202: None},
    auth=ADMIN,
    summary="Remove an issue",
)
def issue_delete(request, org: str, issue_id: str):
    lifecycle.delete(issue_or_404(request.auth, issue_id, org), user=request.auth.user)
    return Status(202, None)


# The older paths without the organization (still in Sentry's reference).
@router.get("/issues/{issue_id}/", response=IssueDetailOut, auth=READ, summary="Retrieve an issue")
def issue_detail_legacy(request, issue_id: str):
    return _detail(request, issue_or_404(request.auth, issue_id))


@router.put("/issues/{issue_id}/", response=IssueDetailOut, auth=WRITE, summary="Update an issue")
def issue_update_legacy(request, issue_id: str, payload: IssueUpdateIn):
    issue = issue_or_404(request.auth, issue_id)
    if payload.merge:
        raise ApiError(400, "Merge issues through PUT .../issues/?id=...&id=... with merge: 1.")
    apply_update([issue], payload, request.auth)
    return _detail(request, issue_or_404(request.auth, str(issue.pk)))


@router.delete("/issues/{issue_id}/", response={202: None}, auth=ADMIN, summary="Remove an issue")
def issue_delete_legacy(request, issue_id: str):
    lifecycle.delete(issue_or_404(request.auth, issue_id), user=request.auth.user)
    return Status(202, None)


@router.get(
    "/organizations/{org}/shortids/{short_id}/",
    response=ShortIdOut,
    auth=READ,
    summary="Resolve a short ID",
)
def resolve_short_id(request, org: str, short_id: str):
    issue = issue_or_404(request.auth, short_id, org)
    page = IssuePage([issue], principal=request.auth, base_url=public_base_url(request))
    return {
        "organizationSlug": org,
        "projectSlug": issue.project.slug,
        "groupId": str(issue.pk),
        "shortId": issue.short_id,
        "group": page.out(issue),
    }
