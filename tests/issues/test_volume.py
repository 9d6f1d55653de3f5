"""Events per issue and day (models/volume.py): counted by the digest, kept through retention,
added up by merges, counted from stored events by the migration; what the charts draw."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from bugsink_issues import lifecycle
from bugsink_issues.models import Event, Issue, IssueDayCount, ProjectSettings
from bugsink_issues.models.volume import backfill, day_of
from bugsink_issues.ui.volume import daily_counts
from tests.factories import make_project, python_exception, spooled

pytestmark = pytest.mark.django_db


def at(days_ago, hour=12):
    now = datetime.now(UTC)
    return (now - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0).isoformat()


def sent(project, exc_type, days_ago, hour=12, **extra):
    return spooled(project, python_exception(exc_type, timestamp=at(days_ago, hour), **extra))


def counts_of(issue):
    return {
        (row.day - day_of(datetime.now(UTC))).days: row.events
        for row in IssueDayCount.objects.filter(issue=issue)
    }


def test_the_digest_counts_each_events_day_once(project, digest):
    batch = [sent(project, "A", 0), sent(project, "A", 3, hour=1), sent(project, "A", 3, hour=23)]
    digest(batch)
    digest(batch)  # redelivered: the events are known, nothing is counted twice
    issue = Issue.objects.get(title__startswith="A")
    assert counts_of(issue) == {0: 1, -3: 2}
    series = daily_counts("issue_id", [issue.pk], 14)[issue.pk]
    assert series[-1] == 1 and series[-4] == 2 and sum(series) == 3
    # Before the window: counted, not drawn. In the future: received now (normalize.py).
    digest([sent(project, "A", 20), sent(project, "A", -2)])
    assert counts_of(issue) == {0: 2, -3: 2, -20: 1}
    assert sum(daily_counts("issue_id", [issue.pk], 14)[issue.pk]) == 4
    assert sum(daily_counts("issue_id", [issue.pk], 30)[issue.pk]) == 5


def test_a_projects_series_adds_its_issues(project, digest):
    other = make_project("Other")
    digest([sent(project, "A", 1), sent(project, "B", 1), sent(project, "B", 0)])
    digest([sent(other, "C", 1)])
    series = daily_counts("project_id", [project.pk, other.pk], 7)
    assert series[project.pk][-2:] == [2, 1] and sum(series[project.pk]) == 3
    assert series[other.pk][-2:] == [1, 0] and sum(series[other.pk]) == 1


def test_retention_leaves_the_counts_of_what_arrived(project, digest):
    ProjectSettings.objects.create(project=project, retention_max_events=3)
    digest([sent(project, "A", 2) for _ in range(5)])
    digest([sent(project, "A", 0) for _ in range(5)])
    issue = Issue.objects.get(title__startswith="A")
    assert Event.objects.filter(issue=issue).count() == 3
    assert counts_of(issue) == {-2: 5, 0: 5}  # as the issue's event count: 10 arrived


def test_a_merge_adds_the_sources_days_to_the_targets(project, digest):
    digest([sent(project, "A", 0), sent(project, "A", 0), sent(project, "A", 5)])
    digest([sent(project, "B", 0), sent(project, "B", 2)])
    a = Issue.objects.get(title__startswith="A")
    b = Issue.objects.get(title__startswith="B")
    lifecycle.merge([a, b], into=a)
    assert counts_of(a) == {0: 3, -2: 1, -5: 1}
    assert not IssueDayCount.objects.filter(issue=b).exists()
    digest([sent(project, "B", 0)])  # B's grouping now leads to A
    assert counts_of(a)[0] == 4


def test_deleting_an_issue_or_project_deletes_its_counts(project, digest):
    digest([sent(project, "A", 0), sent(project, "B", 0)])
    lifecycle.delete(Issue.objects.get(title__startswith="A"))
    assert list(IssueDayCount.objects.values_list("issue__title", flat=True)) == [
        Issue.objects.get(title__startswith="B").title
    ]
    project.delete()
    assert not IssueDayCount.objects.exists()


def test_the_migrations_backfill_counts_the_stored_events_as_the_digest_does(project, digest):
    digest([sent(project, "A", d, hour=h) for d in (0, 1, 1, 9) for h in (0, 23)])
    digest([sent(make_project("Other"), "B", 1)])
    counted = sorted(IssueDayCount.objects.values_list("issue_id", "project_id", "day", "events"))
    assert len(counted) == 4
    IssueDayCount.objects.all().delete()
    backfill(connection)
    assert (
        sorted(IssueDayCount.objects.values_list("issue_id", "project_id", "day", "events"))
        == counted
    )
