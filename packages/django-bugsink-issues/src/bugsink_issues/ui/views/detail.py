from itertools import groupby

from django.http import Http404
from django.shortcuts import redirect

from bugsink_issues.conf import app_settings
from bugsink_issues.digest.storage import load_payload
from bugsink_issues.lifecycle.mutes import describe_condition
from bugsink_issues.models import IssueTagValue
from bugsink_issues.ui import access, export
from bugsink_issues.ui.login import login_required
from bugsink_issues.ui.rendering import event_view
from bugsink_issues.ui.search import search_term
from bugsink_issues.ui.views.common import page
from bugsink_issues.ui.views.issues import MUTE_CHOICES, assignee_choices, text_response
from bugsink_issues.ui.volume import daily_counts, sparkline_svg

TABS = [
    ("stacktrace", "Stack trace"),
    ("details", "Event details"),
    ("breadcrumbs", "Breadcrumbs"),
    ("attachments", "Attachments"),
    ("tags", "Tags"),
    ("events", "Events"),
    ("history", "History"),
    ("grouping", "Grouping"),
    ("feedback", "Feedback"),
]
EVENT_TABS = {"stacktrace", "details", "breadcrumbs"}
EVENT_PAGE = 50
FEEDBACK_SHOWN = 200
TAG_VALUES_SHOWN = 8
# Columns the event navigation and lists need; the payload is loaded only for the shown event.
LIST_COLUMNS = (
    "id",
    "issue_id",
    "event_id",
    "timestamp",
    "issue_sequence",
    "release",
    "environment",
    "title",
    "user_label",
    "level",
)


def _navigation(issue, event):
    events = issue.events.only("id", "issue_id", "issue_sequence")
    return {
        "first": events.first_event(),
        "prev": events.previous_event(event),
        "next": events.next_event(event),
        "last": events.last_event(),
    }


def _tag_distribution(issue):
    rows = (
        IssueTagValue.objects.filter(issue=issue)
        .select_related("tag_value")
        .order_by("key", "-count")
    )
    out = []
    for key, group in groupby(rows, key=lambda r: r.key):
        values = list(group)
        shown = values[:TAG_VALUES_SHOWN]
        out.append(
            {
                "key": key,
                "values": [
                    (
                        v.tag_value.value,
                        v.count,
                        round(100 * v.count / max(issue.event_count, 1)),
                        search_term(key, v.tag_value.value),
                    )
                    for v in shown
                ],
                "more": len(values) - len(shown),
            }
        )
    return out


def _event_list(request, issue):
    q = request.GET.get("eq", "").strip()[:200]
    events = issue.events.only(*LIST_COLUMNS).order_by("-issue_sequence")
    if q:
        events = events.matching(q)
    before = request.GET.get("before", "")
    if before.isdigit():
        events = events.filter(issue_sequence__lt=int(before))
    rows = list(events[: EVENT_PAGE + 1])
    more = len(rows) > EVENT_PAGE
    rows = rows[:EVENT_PAGE]
    return {"events": rows, "eq": q, "events_next": rows[-1].issue_sequence if more else ""}


@login_required
def issue_detail(request, issue_id, event_pk=None):
    try:
        issue = access.issue_or_404(request.user, issue_id)
    except Http404:
        merged_into = access.merged_target_id(request.user, issue_id)
        if merged_into is None:
            raise
        return redirect("bugsink_issues:issue", issue_id=merged_into)  # old links still lead there
    event = access.event_or_404(issue, event_pk) if event_pk else issue.events.last_event()
    tab = request.GET.get("tab", "stacktrace")
    if tab not in dict(TABS):
        tab = "stacktrace"
    context = {
        "issue": issue,
        "project": issue.project,
        "event": event,
        "tab": tab,
        "tabs": TABS,
        "mute_choices": MUTE_CHOICES,
        "mute_condition": describe_condition(issue),
        "assignee_choices": assignee_choices(issue),
        "assignee_value": (
            f"user:{issue.assigned_user_id}"
            if issue.assigned_user_id
            else f"team:{issue.assigned_team_id}"
            if issue.assigned_team_id
            else ""
        ),
        "chart": sparkline_svg(
            daily_counts("issue_id", [issue.pk], app_settings.UI_CHART_DAYS)[issue.pk],
            width=300,
            height=40,
            css_class="chart",
        ),
    }
    if event is not None:
        context["nav"] = _navigation(issue, event)
        if tab in EVENT_TABS:
            data = load_payload(event)
            frames = request.GET.get("frames")
            context["view"] = event_view(
                data, all_frames=frames in ("all", "minified"), minified=frames == "minified"
            )
            context["problems"] = event.problems
    if tab == "stacktrace" and event is not None:
        view = context["view"]
        if not view["exceptions"] and not view["threads"]:
            context["no_trace"] = True
    elif tab == "tags":
        context["tag_distribution"] = _tag_distribution(issue)
    elif tab == "events":
        context.update(_event_list(request, issue))
    elif tab == "history":
        context["history"] = issue.history.select_related("user").order_by("-created_at", "-id")[
            :200
        ]
    elif tab == "grouping":
        context["groupings"] = issue.groupings.order_by("created_at")
    elif tab == "attachments" and event is not None:
        context["attachments"] = event.attachments.defer("data").order_by("pk")
    elif tab == "feedback":
        context["feedback"] = issue.feedback.defer("payload").order_by("-received_at", "-pk")[
            :FEEDBACK_SHOWN
        ]
    context["show_all_frames"] = request.GET.get("frames") in ("all", "minified")
    context["show_minified"] = request.GET.get("frames") == "minified"
    return page(request, "bugsink_issues/issues/detail.html", context)


EXPORT_FORMATS = ("json", "md")


def _export_event(request, event, fmt):
    download = request.GET.get("download") == "1"
    if fmt == "json":
        return text_response(
            export.event_json(event), "application/json", f"event-{event.event_id}.json", download
        )
    return text_response(
        export.event_markdown(event), "text/markdown", f"event-{event.event_id}.md", download
    )


@login_required
def event_export(request, issue_id, event_pk, fmt):
    issue = access.issue_or_404(request.user, issue_id)
    event = access.event_or_404(issue, event_pk)
    if fmt not in EXPORT_FORMATS:
        raise Http404("Exports are .json or .md.")
    return _export_event(request, event, fmt)


@login_required
def issue_export(request, issue_id, fmt):
    issue = access.issue_or_404(request.user, issue_id)
    if fmt not in EXPORT_FORMATS:
        raise Http404("Exports are .json or .md.")
    latest = issue.events.last_event()
    download = request.GET.get("download") == "1"
    if fmt == "json":
        return text_response(
            export.issue_json(issue, latest), "application/json", f"issue-{issue.pk}.json", download
        )
    return text_response(
        export.issue_markdown(issue, latest), "text/markdown", f"issue-{issue.pk}.md", download
    )


@login_required
def event_by_id(request, issue_id, event_id):
    """Permalink by the SDK's event id (what users paste from logs)."""
    issue = access.issue_or_404(request.user, issue_id)
    event = issue.events.with_event_id(event_id)
    if event is None:
        raise Http404("No such event.")
    return redirect("bugsink_issues:event", issue_id=issue.pk, event_pk=event.pk)
