"""A project's Feedback page: what its users wrote (feedback items, user reports, the crash-report
dialog), newest first, with the issue each one is about."""

from bugsink_issues.models import UserFeedback
from bugsink_issues.ui import access
from bugsink_issues.ui.login import login_required
from bugsink_issues.ui.views.common import page

FEEDBACK_PAGE = 100


@login_required
def project_feedback(request, project_id):
    project = access.project_or_404(request.user, project_id)
    rows = (
        UserFeedback.objects.filter(project=project)
        .select_related("issue")
        .defer("payload")
        .order_by("-pk")  # as stored: pages by id
    )
    before = request.GET.get("before", "")
    if before.isdigit():
        rows = rows.filter(pk__lt=int(before))
    shown = list(rows[: FEEDBACK_PAGE + 1])
    more = shown[FEEDBACK_PAGE - 1].pk if len(shown) > FEEDBACK_PAGE else ""
    return page(
        request,
        "bugsink_issues/projects/feedback.html",
        {"project": project, "rows": shown[:FEEDBACK_PAGE], "more": more},
    )
