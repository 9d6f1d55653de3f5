"""User feedback (the feedback widget's and old-style user reports), per project and per issue.

    GET  /projects/{org}/{project}/user-feedback/
    POST /projects/{org}/{project}/user-feedback/    (Sentry's older Submit User Feedback)
    GET  /organizations/{org}/issues/{issue_id}/user-reports/   (and /issues/{issue_id}/...)

event:read (a project's list: project:read too, as in Sentry's reference); submitting takes
project:write, as there. A report for an event from the same address can be sent again for five
minutes (it replaces the first); after that it is final (409).
"""

import re
from datetime import datetime

from django.http import HttpResponse
from ninja import Field, Router, Schema

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.issue_lookups import issue_or_404
from bugsink_issues.api.lookups import project_or_404
from bugsink_issues.api.organization import public_base_url
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.schemas.issues import IssueOut, IssuePage
from bugsink_issues.digest.feedback import ReportFinal, submit_report
from bugsink_issues.models import Issue, UserFeedback

router = Router(tags=["user feedback"])


class FeedbackEventOut(Schema):
    id: str
    eventID: str


class UserFeedbackOut(Schema):
    id: str
    eventID: str
    name: str
    email: str
    comments: str
    dateCreated: datetime
    user: dict | None
    event: FeedbackEventOut | None
    issue: IssueOut | None


def _outs(request, rows):
    issues = Issue.objects.filter(pk__in={r.issue_id for r in rows if r.issue_id}).select_related(
        "project", "assigned_user", "assigned_team"
    )
    page = IssuePage(
        issues, principal=request.auth, base_url=public_base_url(request), stats_period=""
    )
    by_pk = {issue.pk: page.out(issue) for issue in page.issues}
    return [
        UserFeedbackOut(
            id=str(row.pk),
            eventID=row.associated_event_id,
            name=row.name,
            email=row.email,
            comments=row.message,
            dateCreated=row.received_at,
            user=None,
            event=FeedbackEventOut(id=row.associated_event_id, eventID=row.associated_event_id)
            if row.associated_event_id
            else None,
            issue=by_pk.get(row.issue_id),
        )
        for row in rows
    ]


class UserReportIn(Schema):
    event_id: str = Field(description="The event the user reports on (32 hex digits, or a UUID).")
    name: str = Field(max_length=255)
    email: str = Field(max_length=255)
    comments: str = Field(max_length=10_000)


_EVENT_ID = re.compile(r"[0-9a-f]{32}")


def _page(request, response, rows):
    return _outs(request, paginate(request, response, rows.order_by("-received_at", "-id")))


@router.get(
    "/projects/{org}/{project}/user-feedback/",
    response=list[UserFeedbackOut],
    auth=scoped("event:read", "project:read"),
    summary="List a project's user feedback",
)
def project_feedback(request, response: HttpResponse, org: str, project: str):
    found = project_or_404(request.auth, org, project)
    return _page(request, response, UserFeedback.objects.filter(project=found))


@router.get(
    "/organizations/{org}/issues/{issue_id}/user-reports/",
    response=list[UserFeedbackOut],
    auth=scoped("event:read"),
    summary="List an issue's user feedback",
)
def issue_feedback(request, response: HttpResponse, org: str, issue_id: str):
    issue = issue_or_404(request.auth, issue_id, org)
    return _page(request, response, UserFeedback.objects.filter(issue=issue))


@router.get(
    "/issues/{issue_id}/user-reports/", response=list[UserFeedbackOut], auth=scoped("event:read")
)
def issue_feedback_legacy(request, response: HttpResponse, issue_id: str):
    issue = issue_or_404(request.auth, issue_id)
    return _page(request, response, UserFeedback.objects.filter(issue=issue))


@router.post(
    "/projects/{org}/{project}/user-feedback/",
    response=UserFeedbackOut,
    auth=scoped("project:write"),
    summary="Submit user feedback",
)
def project_feedback_submit(request, org: str, project: str, payload: UserReportIn):
    found = project_or_404(request.auth, org, project)
    report = payload.model_dump()
    report["event_id"] = report["event_id"].replace("-", "").lower()
    if not _EVENT_ID.fullmatch(report["event_id"]):
        raise ApiError(400, "event_id: 32 hexadecimal digits (or a UUID) naming the event.")
    if not report["comments"].strip():
        raise ApiError(400, "comments: the user's words are empty.")
    try:
        row = submit_report(found.pk, report)
    except ReportFinal as exc:
        raise ApiError(409, str(exc))
    return _outs(request, [row])[0]
