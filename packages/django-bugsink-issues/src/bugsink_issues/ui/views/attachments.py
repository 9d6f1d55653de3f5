"""An event's attachments: the preview page, the download, and a safe image inline (ui/attachments.py
decides what is safe)."""

from django.http import Http404

from bugsink_issues.ui import access
from bugsink_issues.ui.attachments import (
    download_response,
    image_response,
    image_type,
    text_preview,
)
from bugsink_issues.ui.login import login_required
from bugsink_issues.ui.views.common import page


def _attachment(request, issue_id, event_pk, attachment_id):
    issue = access.issue_or_404(request.user, issue_id)
    event = access.event_or_404(issue, event_pk)
    return issue, event, access.attachment_or_404(event, attachment_id)


@login_required
def attachment_preview(request, issue_id, event_pk, attachment_id):
    issue, event, attachment = _attachment(request, issue_id, event_pk, attachment_id)
    preview = text_preview(attachment)
    return page(
        request,
        "bugsink_issues/issues/attachment.html",
        {
            "issue": issue,
            "project": issue.project,
            "event": event,
            "attachment": attachment,
            "is_image": image_type(attachment) is not None,
            "text": preview[0] if preview else None,
            "truncated": preview[1] if preview else False,
        },
    )


@login_required
def attachment_download(request, issue_id, event_pk, attachment_id):
    _, _, attachment = _attachment(request, issue_id, event_pk, attachment_id)
    return download_response(attachment)


@login_required
def attachment_image(request, issue_id, event_pk, attachment_id):
    _, _, attachment = _attachment(request, issue_id, event_pk, attachment_id)
    response = image_response(attachment)
    if response is None:
        raise Http404("This attachment is not a PNG, JPEG, GIF or WebP image.")
    return response
