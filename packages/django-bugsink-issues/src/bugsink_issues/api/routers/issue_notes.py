"""An issue's comments (Sentry calls them notes): listed with the newest first, added, and edited
or deleted by their author.

    GET|POST   /organizations/{org}/issues/{issue_id}/comments/
    PUT|DELETE /organizations/{org}/issues/{issue_id}/comments/{note_id}/
    (and the same under /issues/{issue_id}/)

Reading needs event:read, commenting event:write. A comment is an entry of the issue's history, the
same the issue page shows; only its author (or a superuser) changes it.
"""

from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status

from bugsink_issues import lifecycle
from bugsink_issues.api.auth import scoped
from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.issue_lookups import issue_or_404
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.schemas.issues import ActivityOut, activity_out
from bugsink_issues.models.issues import HistoryKind

router = Router(tags=["issues"])

READ = scoped("event:read")
WRITE = scoped("event:write")
MAX_COMMENT = 10_000


class NoteIn(Schema):
    text: str = Field(description="The comment (Markdown is shown as text).")


def _list(request, response, issue):
    notes = issue.history.filter(kind=HistoryKind.COMMENT).select_related("user")
    return [
        activity_out(n) for n in paginate(request, response, notes.order_by("-created_at", "-id"))
    ]


def _text(request, payload):
    text = payload.text.strip()
    if not text:
        raise ApiError(400, "The comment is empty.")
    if len(text) > MAX_COMMENT:
        raise ApiError(400, f"A comment has at most {MAX_COMMENT} characters.")
    if request.auth.user is None:
        raise ApiError(400, "Comments need a user token (an organization token has no user).")
    return text


def _add(request, issue, payload):
    entry = lifecycle.comment(issue, _text(request, payload), user=request.auth.user)
    return Status(201, activity_out(entry))


def _note_or_404(issue, note_id):
    notes = issue.history.filter(kind=HistoryKind.COMMENT).select_related("user")
    note = notes.filter(pk=int(note_id)).first() if note_id.isdigit() else None
    if note is None:
        raise Http404(f"Comment {note_id!r} not found.")
    return note


def _edit(request, issue, note_id, payload):
    note = _note_or_404(issue, note_id)
    text = _text(request, payload)
    try:
        return activity_out(lifecycle.edit_comment(note, text, user=request.auth.user))
    except lifecycle.CommentError as exc:
        raise ApiError(403, str(exc))


def _delete(request, issue, note_id):
    note = _note_or_404(issue, note_id)
    try:
        lifecycle.delete_comment(note, user=request.auth.user)
    except lifecycle.CommentError as exc:
        raise ApiError(403, str(exc))
    return Status(204, None)


@router.get(
    "/organizations/{org}/issues/{issue_id}/comments/",
    response=list[ActivityOut],
    auth=READ,
    summary="List an issue's comments",
)
def issue_comments(request, response: HttpResponse, org: str, issue_id: str):
    return _list(request, response, issue_or_404(request.auth, issue_id, org))


@router.post(
    "/organizations/{org}/issues/{issue_id}/comments/",
    response={201: ActivityOut},
    auth=WRITE,
    summary="Add a comment to an issue",
)
def issue_comment_add(request, org: str, issue_id: str, payload: NoteIn):
    return _add(request, issue_or_404(request.auth, issue_id, org), payload)


@router.get("/issues/{issue_id}/comments/", response=list[ActivityOut], auth=READ)
def issue_comments_legacy(request, response: HttpResponse, issue_id: str):
    return _list(request, response, issue_or_404(request.auth, issue_id))


@router.post("/issues/{issue_id}/comments/", response={201: ActivityOut}, auth=WRITE)
def issue_comment_add_legacy(request, issue_id: str, payload: NoteIn):
    return _add(request, issue_or_404(request.auth, issue_id), payload)


@router.put(
    "/organizations/{org}/issues/{issue_id}/comments/{note_id}/",
    response=ActivityOut,
    auth=WRITE,
    summary="Edit a comment (its author)",
)
def issue_comment_edit(request, org: str, issue_id: str, note_id: str, payload: NoteIn):
    return _edit(request, issue_or_404(request.auth, issue_id, org), note_id, payload)


@router.delete(
    "/organizations/{org}/issues/{issue_id}/comments/{note_id}/",
    response={204: None},
    auth=WRITE,
    summary="Delete a comment (its author)",
)
def issue_comment_delete(request, org: str, issue_id: str, note_id: str):
    return _delete(request, issue_or_404(request.auth, issue_id, org), note_id)


@router.put("/issues/{issue_id}/comments/{note_id}/", response=ActivityOut, auth=WRITE)
def issue_comment_edit_legacy(request, issue_id: str, note_id: str, payload: NoteIn):
    return _edit(request, issue_or_404(request.auth, issue_id), note_id, payload)


@router.delete("/issues/{issue_id}/comments/{note_id}/", response={204: None}, auth=WRITE)
def issue_comment_delete_legacy(request, issue_id: str, note_id: str):
    return _delete(request, issue_or_404(request.auth, issue_id), note_id)
