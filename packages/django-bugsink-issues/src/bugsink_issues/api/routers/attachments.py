"""Attachments of events: listed per event and per issue, and downloaded.

    GET /projects/{org}/{project}/events/{event_id}/attachments/
    GET /projects/{org}/{project}/events/{event_id}/attachments/{attachment_id}/   ?download=1
    GET /organizations/{org}/issues/{issue_id}/attachments/

project:read or event:read (Sentry's reference names project:read). A download is always
`application/octet-stream` as an attachment, sandboxed: its bytes come from whoever sent the event,
and the API shares its origin with the UI's session.
"""

from datetime import datetime

from django.http import Http404, HttpResponse, StreamingHttpResponse
from ninja import Router, Schema

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.issue_lookups import issue_or_404
from bugsink_issues.api.lookups import project_or_404
from bugsink_issues.api.pagination import paginate
from bugsink_issues.digest.attachments import attachment_chunks
from bugsink_issues.models import Event, EventAttachment

router = Router(tags=["events"])

READ = scoped("event:read", "project:read")


class AttachmentOut(Schema):
    id: str
    event_id: str
    type: str
    name: str
    mimetype: str
    dateCreated: datetime
    size: int
    headers: dict[str, str]
    sha1: str | None


def _out(attachment):
    mimetype = attachment.content_type or "application/octet-stream"
    return AttachmentOut(
        id=str(attachment.pk),
        event_id=attachment.event.event_id,
        type=attachment.attachment_type or "event.attachment",
        name=attachment.filename,
        mimetype=mimetype,
        dateCreated=attachment.event.received_at,
        size=attachment.size,
        headers={"Content-Type": mimetype},
        sha1=None,
    )


def _event_or_404(request, org, project, event_id):
    found = project_or_404(request.auth, org, project)
    event = Event.objects.filter(project=found).only("id", "event_id").with_event_id(event_id)
    if event is None:
        raise Http404(f"Event {event_id!r} not found.")
    return event


def _listing(attachments):
    return attachments.select_related("event").defer("data").order_by("pk")


@router.get(
    "/projects/{org}/{project}/events/{event_id}/attachments/",
    response=list[AttachmentOut],
    auth=READ,
    summary="List an event's attachments",
)
def event_attachments(request, response: HttpResponse, org: str, project: str, event_id: str):
    event = _event_or_404(request, org, project, event_id)
    page = paginate(request, response, _listing(EventAttachment.objects.filter(event=event)))
    return [_out(a) for a in page]


@router.get(
    "/projects/{org}/{project}/events/{event_id}/attachments/{attachment_id}/",
    response=AttachmentOut,
    auth=READ,
    summary="Retrieve an attachment (download=1: its bytes)",
)
def event_attachment(
    request, org: str, project: str, event_id: str, attachment_id: str, download: bool = False
):
    event = _event_or_404(request, org, project, event_id)
    attachments = EventAttachment.objects.filter(event=event).select_related("event")
    attachment = (
        attachments.filter(pk=int(attachment_id)).first() if attachment_id.isdigit() else None
    )
    if attachment is None:
        raise Http404(f"Attachment {attachment_id!r} not found.")
    if not download:
        return _out(attachment)
    # Streamed a stored chunk at a time: an attachment is never held whole in memory.
    response = StreamingHttpResponse(
        attachment_chunks(attachment), content_type="application/octet-stream"
    )
    response["Content-Length"] = str(attachment.size)
    name = attachment.filename.replace('"', "").replace("\\", "").replace("\n", " ")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


@router.get(
    "/organizations/{org}/issues/{issue_id}/attachments/",
    response=list[AttachmentOut],
    auth=READ,
    summary="List an issue's attachments",
)
def issue_attachments(request, response: HttpResponse, org: str, issue_id: str):
    issue = issue_or_404(request.auth, issue_id, org)
    attachments = EventAttachment.objects.filter(event__issue=issue)
    return [_out(a) for a in paginate(request, response, _listing(attachments))]
