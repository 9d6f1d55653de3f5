"""A project's Monitors page: each cron monitor with its status, schedule, last check-in, when the
next is due, and its recent check-ins."""

from collections import defaultdict

from django.contrib.auth.decorators import login_required

from bugsink_issues.models import CheckIn, Monitor
from bugsink_issues.monitors.detection import margin
from bugsink_issues.monitors.schedule import schedule_of
from bugsink_issues.monitors.tasks import arm_monitor_checks
from bugsink_issues.ui import access
from bugsink_issues.ui.views.common import page

RECENT_CHECK_INS = 10
MAX_MONITORS = 200


def _rows(project):
    monitors = list(Monitor.objects.of_project(project)[:MAX_MONITORS])
    recent = defaultdict(list)
    for monitor in monitors:  # one small query each: at most MAX_MONITORS, RECENT_CHECK_INS rows
        recent[monitor.pk] = list(
            CheckIn.objects.filter(monitor=monitor).order_by("-started_at", "-pk")[
                :RECENT_CHECK_INS
            ]
        )
    rows = []
    for monitor in monitors:
        schedule = schedule_of(monitor)
        rows.append(
            {
                "monitor": monitor,
                "schedule": schedule.describe() if schedule else "",
                "margin_minutes": int(margin(monitor).total_seconds() // 60),
                "check_ins": recent[monitor.pk],
            }
        )
    return rows


@login_required
def project_monitors(request, project_id):
    project = access.project_or_404(request.user, project_id)
    arm_monitor_checks()  # a chain lost while no check-ins came is started again
    return page(
        request,
        "bugsink_issues/monitors/list.html",
        {"project": project, "rows": _rows(project)},
    )
