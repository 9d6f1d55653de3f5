from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from bugsink_ingest.models import Project
from bugsink_issues import lifecycle
from bugsink_issues.conf import app_settings
from bugsink_issues.lifecycle.mutes import MAX_MUTE_EVENT_COUNT
from bugsink_issues.models import Issue, Team
from bugsink_issues.models.access import visible_projects
from bugsink_issues.ui import access
from bugsink_issues.ui import search as issue_search
from bugsink_issues.ui.issue_rows import issue_rows
from bugsink_issues.ui.login import login_required
from bugsink_issues.ui.views.common import page
from bugsink_issues.ui.volume import daily_counts, sparkline_svg

MUTE_PERIODS = {"1h": 3600, "1d": 86400, "1w": 7 * 86400}
# Mute until N events: since muting (None), or within an hour, a day.
MUTE_EVENT_WINDOWS = {"events": None, "events_hour": 3600, "events_day": 86400}
MUTE_CHOICES = [
    ("", "forever"),
    ("1h", "for an hour"),
    ("1d", "for a day"),
    ("1w", "for a week"),
    ("events", "until N more events"),
    ("events_hour", "until N events in an hour"),
    ("events_day", "until N events in a day"),
]
BULK_ACTIONS = [
    ("resolve", "Resolve"),
    ("resolve_next", "Resolve in next release"),
    ("mute", "Mute"),
    ("unmute", "Unmute"),
    ("reopen", "Reopen"),
    ("delete", "Delete"),
]


@dataclass
class IssueSearch:
    """The issue list a request asks for: its project (None: all visible), filters and order."""

    project: Project | None
    status: str
    sort: str
    query: str
    issues: object  # the matching issues (a queryset)
    parsed: issue_search.SearchQuery
    assigned_to_me: bool = False

    def list_url(self):
        base = (
            reverse("bugsink_issues:project_issues", args=[self.project.pk])
            if self.project
            else reverse("bugsink_issues:all_issues")
        )
        params = {
            "status": self.status,
            "sort": self.sort,
            "q": self.query,
            "assigned": "me" if self.assigned_to_me else "",
        }
        return f"{base}?{urlencode({k: v for k, v in params.items() if v})}"


def _search(user, params, project=None):
    status = params.get("status", "open")
    if status not in issue_search.STATUSES:
        status = "open"
    sort = params.get("sort", "last_seen")
    if sort not in issue_search.SORTS:
        sort = "last_seen"
    query = params.get("q", "")[:500]
    assigned_to_me = params.get("assigned") == "me"
    if project is not None:
        qs, projects = project.issues.all(), Project.objects.filter(pk=project.pk)
    else:
        qs = Issue.objects.visible_to(user).select_related("project")
        projects = visible_projects(user)
    if assigned_to_me:
        qs = qs.assigned_to_user(user)
    issues, parsed = issue_search.filter_issues(
        qs.select_related("assigned_user", "assigned_team"),
        projects=projects,
        status=status,
        query=query,
    )
    return IssueSearch(project, status, sort, query, issues, parsed, assigned_to_me)


def _list(request, project=None):
    search = _search(request.user, request.GET, project)
    result = issue_search.page_of(
        search.issues,
        sort=search.sort,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    volume = daily_counts("issue_id", [i.pk for i in result.rows], app_settings.UI_SPARKLINE_DAYS)
    rows = [(issue, sparkline_svg(volume[issue.pk])) for issue in result.rows]
    total, more = issue_search.count_of(search.issues, search.parsed)
    return page(
        request,
        "bugsink_issues/issues/list.html",
        {
            "project": project,
            "rows": rows,
            "rows_html": issue_rows(
                rows,
                # One reverse() per page, not two per row.
                reverse("bugsink_issues:issue", args=[0]).removesuffix("0/"),
                with_project=project is None,
            ),
            "total": total,
            "total_more": more,
            "status": search.status,
            "statuses": list(issue_search.STATUSES),
            "sort": search.sort,
            "sorts": [(k, label) for k, (_col, label) in issue_search.SORTS.items()],
            "q": search.query,
            "assigned_to_me": search.assigned_to_me,
            "search_errors": search.parsed.errors,
            "placeholder": issue_search.PLACEHOLDER,
            "search_help": issue_search.HELP,
            "next_cursor": result.next_cursor,
            "previous_cursor": result.previous_cursor,
            "bulk_actions": BULK_ACTIONS,
            "sparkline_days": app_settings.UI_SPARKLINE_DAYS,
        },
    )


@login_required
def project_issues(request, project_id):
    project = access.project_or_404(request.user, project_id)
    return _list(request, project)


@login_required
def all_issues(request):
    return _list(request)


def _back(request, fallback):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


# The lifecycle function of each action, and its bulk variant (one transaction for all issues).
BULK = {
    lifecycle.resolve: lifecycle.bulk_resolve,
    lifecycle.reopen: lifecycle.bulk_reopen,
    lifecycle.mute: lifecycle.bulk_mute,
    lifecycle.unmute: lifecycle.bulk_unmute,
    lifecycle.delete: lifecycle.bulk_delete,
}


def _mute_arguments(post):
    period = post.get("period", "")
    if period not in MUTE_EVENT_WINDOWS:
        return {"for_seconds": MUTE_PERIODS.get(period)}
    count = post.get("event_count", "").strip()
    if not count.isdigit() or not 1 <= int(count) <= MAX_MUTE_EVENT_COUNT:
        raise ValueError(
            f"Mute until how many events? Give a number from 1 to {MAX_MUTE_EVENT_COUNT:,}."
        )
    return {"event_count": int(count), "window_seconds": MUTE_EVENT_WINDOWS[period]}


def _parse_action(action, post):
    """(lifecycle function, its keyword arguments) for a posted action; ValueError if invalid."""
    kwargs = {"comment": post.get("comment", "")[:10_000]}
    if action == "resolve":
        return lifecycle.resolve, kwargs
    if action == "resolve_next":
        return lifecycle.resolve, {**kwargs, "in_next_release": True}
    if action == "resolve_in":
        release = post.get("release", "").strip()[:250]
        if not release:
            raise ValueError("Name the release.")
        return lifecycle.resolve, {**kwargs, "in_release": release}
    if action == "mute":
        return lifecycle.mute, {**kwargs, **_mute_arguments(post)}
    if action in ("reopen", "unmute", "delete"):
        return getattr(lifecycle, action), kwargs
    raise ValueError("Unknown action.")


@login_required
@require_POST
def issue_action(request, issue_id):
    issue = access.issue_or_404(request.user, issue_id)
    action = request.POST.get("action", "")
    try:
        function, kwargs = _parse_action(action, request.POST)
        function(issue, user=request.user, **kwargs)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("bugsink_issues:issue", issue_id=issue.pk)
    if action == "delete":
        messages.success(request, "Issue deleted.")
        return redirect("bugsink_issues:project_issues", project_id=issue.project_id)
    messages.success(request, f"Issue {action.replace('_', ' ')}: done.")
    return _back(request, reverse("bugsink_issues:issue", args=[issue.pk]))


@login_required
@require_POST
def bulk_action(request):
    ids = [int(i) for i in request.POST.getlist("issue") if i.isdigit()][:500]
    issues = list(Issue.objects.visible_to(request.user).filter(pk__in=ids).order_by("pk"))
    action = request.POST.get("action", "")
    if not issues:
        messages.error(request, "No issues selected.")
        return _back(request, reverse("bugsink_issues:all_issues"))
    if action == "merge":
        try:
            target = lifecycle.merge(issues, user=request.user)
        except lifecycle.MergeError as exc:
            messages.error(request, str(exc))
            return _back(request, reverse("bugsink_issues:all_issues"))
        messages.success(request, f"Merged {len(issues)} issues into {target.short_id}.")
        return redirect("bugsink_issues:issue", issue_id=target.pk)
    try:
        function, kwargs = _parse_action(action, request.POST)
    except ValueError as exc:
        messages.error(request, str(exc))
        return _back(request, reverse("bugsink_issues:all_issues"))
    # All or nothing: a failure on any issue leaves every selected issue as it was.
    BULK[function](issues, user=request.user, **kwargs)
    label = action.replace("_", " ").capitalize()
    messages.success(request, f"{label}: {len(issues)} issue(s).")
    return _back(request, reverse("bugsink_issues:all_issues"))


def assignee_choices(issue):
    """[(value, label)] the issue page offers to assign to: the project's team and its members."""
    from bugsink_issues.models import ProjectTeam

    link = ProjectTeam.objects.filter(project_id=issue.project_id).select_related("team").first()
    if link is None:
        return []
    members = link.team.memberships.select_related("user").order_by("user__username")
    return [(f"team:{link.team.pk}", f"Team {link.team.name}")] + [
        (f"user:{m.user.pk}", m.user.get_full_name() or m.user.get_username())
        for m in members
        if m.user.is_active
    ]


@login_required
@require_POST
def issue_assign(request, issue_id):
    issue = access.issue_or_404(request.user, issue_id)
    value = request.POST.get("assignee", "")
    choices = dict(assignee_choices(issue))
    if value and value not in choices:
        messages.error(request, "Choose someone from the list.")
        return redirect("bugsink_issues:issue", issue_id=issue.pk)
    kind, _, pk = value.partition(":")
    to: Team | AbstractBaseUser | None
    if kind == "team":
        to = Team.objects.get(pk=int(pk))
    elif kind == "user":
        to = get_user_model().objects.get(pk=int(pk))
    else:
        to = None
    try:
        lifecycle.assign(issue, to, user=request.user)
    except lifecycle.AssignmentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Assigned to {choices[value]}." if to else "Unassigned.")
    return redirect("bugsink_issues:issue", issue_id=issue.pk)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_matching(request):
    """An action on every issue a search matches (not only the page shown): GET asks, naming the
    count; POST applies it in one transaction, if the count is still the one confirmed."""
    params = request.POST if request.method == "POST" else request.GET
    project_id = params.get("project", "")
    in_range = project_id.isdigit() and len(project_id) < 18
    project = access.project_or_404(request.user, int(project_id)) if in_range else None
    search = _search(request.user, params, project)
    action = params.get("action", "")
    try:
        if search.parsed.errors:
            raise ValueError(" ".join(search.parsed.errors))
        function, kwargs = _parse_action(action, params)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(search.list_url())
    ids = list(search.issues.order_by("pk").values_list("pk", flat=True))
    confirmed = params.get("count", "")
    if request.method == "POST" and confirmed == str(len(ids)):
        BULK[function](ids, user=request.user, **kwargs)  # all or nothing
        messages.success(request, f"{dict(BULK_ACTIONS)[action]}: {len(ids)} issue(s).")
        return redirect(search.list_url())
    return page(
        request,
        "bugsink_issues/issues/bulk_confirm.html",
        {
            "search": search,
            "count": len(ids),
            "action": action,
            "action_label": dict(BULK_ACTIONS).get(action, action),
            "changed_from": confirmed if request.method == "POST" else "",
            "fields": {
                name: params.get(name, "")
                for name in (
                    "project",
                    "status",
                    "sort",
                    "q",
                    "assigned",
                    "action",
                    "period",
                    "event_count",
                )
            },
        },
    )


@login_required
@require_POST
def issue_comment(request, issue_id):
    issue = access.issue_or_404(request.user, issue_id)
    comment = request.POST.get("comment", "").strip()[:10_000]
    if comment:
        lifecycle.comment(issue, comment, user=request.user)
        messages.success(request, "Comment added.")
    else:
        messages.error(request, "Write a comment first.")
    return redirect(reverse("bugsink_issues:issue", args=[issue.pk]) + "?tab=history")


def text_response(body, content_type, filename, download):
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    if download:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
