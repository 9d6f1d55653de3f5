"""An issue's tag distributions: which values its events carried, and how often (exact counts kept
by the digest).

    GET /organizations/{org}/issues/{issue_id}/tags/               every key, with its top values
    GET /organizations/{org}/issues/{issue_id}/tags/{key}/         one key (the MCP server's tool)
    GET /organizations/{org}/issues/{issue_id}/tags/{key}/values/  all values of a key, paginated
and the same under /issues/{issue_id}/. event:read.
"""

from datetime import datetime

from django.db.models import Count, Sum
from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.issue_lookups import issue_or_404
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.schemas.issues import tag_name
from bugsink_issues.models import IssueTagValue

router = Router(tags=["issues"])

READ = scoped("event:read")
TOP_VALUES = 9


class TagValueOut(Schema):
    key: str
    name: str
    value: str
    count: int
    firstSeen: datetime
    lastSeen: datetime


class TagDetailOut(Schema):
    key: str
    name: str
    uniqueValues: int = Field(description="Distinct values.")
    totalValues: int = Field(description="Events that had the tag.")
    topValues: list[TagValueOut]


def _value_out(row):
    return TagValueOut(
        key=row.key,
        name=row.tag_value.value,
        value=row.tag_value.value,
        count=row.count,
        firstSeen=row.first_seen,
        lastSeen=row.last_seen,
    )


def _rows(issue, key=None):
    rows = IssueTagValue.objects.filter(issue=issue).select_related("tag_value")
    if key is not None:
        rows = rows.filter(key=key)
    return rows.order_by("key", "-count", "tag_value__value")


def _detail(issue, key, totals):
    unique, total = totals
    top = [_value_out(row) for row in _rows(issue, key)[:TOP_VALUES]]
    return TagDetailOut(
        key=key, name=tag_name(key), uniqueValues=unique, totalValues=total, topValues=top
    )


def _totals(issue, key=None):
    rows = IssueTagValue.objects.filter(issue=issue)
    if key is not None:
        rows = rows.filter(key=key)
    return {
        row["key"]: (row["unique"], row["total"] or 0)
        for row in rows.values("key").annotate(unique=Count("id"), total=Sum("count")).order_by()
    }


def _all_tags(issue):
    return [_detail(issue, key, totals) for key, totals in sorted(_totals(issue).items())]


def _one_tag(issue, key):
    totals = _totals(issue, key)
    if key not in totals:
        raise Http404(f"No events of this issue have the tag {key!r}.")
    return _detail(issue, key, totals[key])


def _values(request, response, issue, key):
    if not _totals(issue, key):
        raise Http404(f"No events of this issue have the tag {key!r}.")
    return [_value_out(row) for row in paginate(request, response, _rows(issue, key))]


@router.get(
    "/organizations/{org}/issues/{issue_id}/tags/",
    response=list[TagDetailOut],
    auth=READ,
    summary="List an issue's tags",
)
def issue_tags(request, org: str, issue_id: str):
    return _all_tags(issue_or_404(request.auth, issue_id, org))


@router.get(
    "/organizations/{org}/issues/{issue_id}/tags/{key}/",
    response=TagDetailOut,
    auth=READ,
    summary="Retrieve tag details",
)
def issue_tag(request, org: str, issue_id: str, key: str):
    return _one_tag(issue_or_404(request.auth, issue_id, org), key)


@router.get(
    "/organizations/{org}/issues/{issue_id}/tags/{key}/values/",
    response=list[TagValueOut],
    auth=READ,
    summary="List a tag's values related to an issue",
)
def issue_tag_values(request, response: HttpResponse, org: str, issue_id: str, key: str):
    return _values(request, response, issue_or_404(request.auth, issue_id, org), key)


@router.get("/issues/{issue_id}/tags/", response=list[TagDetailOut], auth=READ)
def issue_tags_legacy(request, issue_id: str):
    return _all_tags(issue_or_404(request.auth, issue_id))


@router.get("/issues/{issue_id}/tags/{key}/", response=TagDetailOut, auth=READ)
def issue_tag_legacy(request, issue_id: str, key: str):
    return _one_tag(issue_or_404(request.auth, issue_id), key)


@router.get("/issues/{issue_id}/tags/{key}/values/", response=list[TagValueOut], auth=READ)
def issue_tag_values_legacy(request, response: HttpResponse, issue_id: str, key: str):
    return _values(request, response, issue_or_404(request.auth, issue_id), key)
