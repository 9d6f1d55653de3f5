"""A release's `healthData` per project, as Sentry's release endpoints give it with `health=1`
(docs.sentry.io/api/releases/: crash-free rates and adoption in percent, session and user totals,
a time series of sessions), computed from the hourly aggregates of models/health.py.

Windows as Sentry's: the totals over `summaryStatsPeriod` (14d unless asked), adoption and the
*24h figures over the last 24 hours, and `stats` over `healthStatsPeriod` (24h unless asked:
hourly points up to two days, daily ones beyond). Session durations are not recorded (the SDKs'
`duration` is not kept), so durationP50/P90 are null, as Sentry answers without them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from bugsink_issues.api.errors import ApiError
from bugsink_issues.models import ReleaseHealthBucket, ReleaseHealthUser

__all__ = ["HealthWindows", "health_data_by_project", "windows_from_query"]

# Sentry's documented choices for summaryStatsPeriod and healthStatsPeriod, in hours.
PERIODS = {
    "1h": 1,
    "24h": 24,
    "1d": 24,
    "2d": 48,
    "48h": 48,
    "7d": 24 * 7,
    "14d": 24 * 14,
    "30d": 24 * 30,
    "90d": 24 * 90,
}


@dataclass(frozen=True)
class HealthWindows:
    now: datetime
    summary_period: str = "14d"
    stats_period: str = "24h"

    def since(self, period: str) -> datetime:
        hour = self.now.replace(minute=0, second=0, microsecond=0)
        # buckets are whole hours: the current one and the period's full ones before it
        return hour - timedelta(hours=PERIODS[period] - 1)


def _period(request, name, default):
    value = request.GET.get(name, "").strip() or default
    if value not in PERIODS:
        raise ApiError(400, f"{name} must be one of {', '.join(PERIODS)} (got {value[:20]!r}).")
    return value


def _true(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def windows_from_query(request) -> HealthWindows | None:
    """The windows the query asks for (`health=1`), or None (no healthData then)."""
    if not _true(request.GET.get("health", "")):
        return None
    return HealthWindows(
        now=timezone.now(),
        summary_period=_period(request, "summaryStatsPeriod", "14d"),
        stats_period=_period(request, "healthStatsPeriod", "24h"),
    )


def _percent(part, whole):
    return round(100 * part / whole, 4) if whole else None


def _project_users(project_id, since) -> int:
    return (
        ReleaseHealthUser.objects.filter(bucket__project_id=project_id, bucket__hour__gte=since)
        .values("user_hash")
        .distinct()
        .count()
    )


def _stats(project_id, versions, windows):
    """{version: [[epoch seconds, sessions], ...]}: hourly points, or daily beyond two days."""
    hours = PERIODS[windows.stats_period]
    step = 1 if hours <= 48 else 24
    since = windows.since(windows.stats_period)
    points = {}
    slots = [since + timedelta(hours=h) for h in range(0, hours, step)]
    rows = (
        ReleaseHealthBucket.objects.filter(
            project_id=project_id, release__in=versions, hour__gte=since
        )
        .values_list("release", "hour")
        .annotate(n=Sum("sessions"))
    )
    counts: dict[str, dict[int, int]] = {}
    for release, hour, n in rows:
        slot = int((hour - since).total_seconds() // 3600) // step
        per = counts.setdefault(release, {})
        per[slot] = per.get(slot, 0) + n
    for version in versions:
        per = counts.get(version, {})
        points[version] = [[int(s.timestamp()), per.get(i, 0)] for i, s in enumerate(slots)]
    return points


def health_data_by_project(project_ids, versions, windows: HealthWindows) -> dict:
    """{(version, project id): healthData dict} for each pair (all zero without sessions)."""
    versions = list(versions)
    out = {}
    for project_id in set(project_ids):
        summary = ReleaseHealthBucket.objects.figures_by_release(
            project_id, windows.since(windows.summary_period), versions
        )
        since_24h = windows.since("24h")
        day = ReleaseHealthBucket.objects.figures_by_release(project_id, since_24h, versions)
        project_sessions_24h = (
            ReleaseHealthBucket.objects.filter(
                project_id=project_id, hour__gte=since_24h
            ).aggregate(n=Sum("sessions"))["n"]
            or 0
        )
        project_users_24h = _project_users(project_id, since_24h)
        stats = _stats(project_id, versions, windows)
        for version in versions:
            s, d = summary.get(version), day.get(version)
            sessions = s.sessions if s else 0
            out[(version, project_id)] = {
                "durationP50": None,
                "durationP90": None,
                "crashFreeUsers": _percent(s.users - s.crashed_users, s.users) if s else None,
                "crashFreeSessions": _percent(sessions - s.crashed, sessions) if s else None,
                "totalUsers": s.users if s else 0,
                "totalUsers24h": d.users if d else 0,
                "totalProjectUsers24h": project_users_24h,
                "totalSessions": sessions,
                "totalSessions24h": d.sessions if d else 0,
                "totalProjectSessions24h": project_sessions_24h,
                "sessionsCrashed": s.crashed if s else 0,
                "sessionsErrored": s.errored if s else 0,
                "adoption": _percent(d.users, project_users_24h) if d else None,
                "sessionsAdoption": _percent(d.sessions, project_sessions_24h) if d else None,
                "hasHealthData": sessions > 0,
                "stats": {windows.stats_period: stats[version]},
            }
    return out
