"""Release health and client reports in the digest (digest/health.py) and on the pages: a session
counted once with its final status whatever order its updates come in, aggregates added, distinct
users per hour (bounded), redelivery counting nothing twice, client reports summed; the Releases
and settings pages show them to those who see the project, names escaped."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bugsink_issues.digest import health
from bugsink_issues.models import (
    ClientReportCount,
    HealthReceipt,
    Release,
    ReleaseHealthBucket,
    ReleaseHealthUser,
    SessionState,
)
from tests.factories import make_project, make_team, make_user, spooled

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = NOW.replace(minute=0, second=0)


def session(sid, status="ok", *, init=False, errors=0, did=None, release="app@1", env="prod"):
    body = {
        "sid": sid,
        "init": init,
        "started": NOW.isoformat(),
        "status": status,
        "errors": errors,
        "attrs": {"release": release, "environment": env},
    }
    if did is not None:
        body["did"] = did
    return body


def items(project, *bodies, kind="session"):
    return [spooled(project, b, kind=kind, received_at=NOW) for b in bodies]


def figures(project, release="app@1"):
    since = timezone.now() - timedelta(days=14)
    return ReleaseHealthBucket.objects.figures_by_release(project, since)[release]


def test_a_session_is_counted_once_with_its_final_status(project, digest):
    digest(items(project, session("a", init=True, did="u1")))
    digest(items(project, session("a", errors=1, did="u1"), session("a", errors=2, did="u1")))
    digest(items(project, session("a", "crashed", errors=2, did="u1")))
    # After its end, an update that comes late changes nothing.
    digest(items(project, session("a", "exited", errors=3, did="u1")))
    f = figures(project)
    assert (f.sessions, f.errored, f.crashed, f.abnormal) == (1, 1, 1, 0)
    assert (f.users, f.crashed_users) == (1, 1)
    assert f.crash_free_sessions == 0.0 and f.crash_free_users == 0.0
    assert f.environments == ("prod",)
    # The release is made (with no events), so the Releases page lists it.
    assert Release.objects.get(project=project, version="app@1").first_seen is None


def test_a_session_whose_init_was_lost_is_counted_at_its_first_update(project, digest):
    digest(items(project, session("b", "exited"), session("c", "abnormal"), session("d")))
    f = figures(project)
    assert (f.sessions, f.errored, f.crashed, f.abnormal) == (3, 1, 0, 1)
    assert f.crash_free_sessions == 1.0  # abnormal is not a crash


def test_a_batch_delivered_again_counts_nothing_twice(project, digest):
    batch = items(project, session("e", init=True, did="u1"))
    batch += items(
        project,
        {"attrs": {"release": "app@1"}, "aggregates": [{"started": NOW.isoformat(), "exited": 4}]},
        kind="sessions",
    )
    batch += items(
        project,
        {"discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 2}]},
        kind="client_report",
    )
    digest(batch)
    digest(batch)
    assert figures(project).sessions == 5
    assert ClientReportCount.objects.get(project=project).quantity == 2


def test_session_items_delivered_again_count_nothing_twice_with_one_receipt(project, digest):
    batch = items(
        project,
        session("f", "crashed", init=True, errors=1, did="u1"),
        session("g", errors=1, did="u2"),
        session("h", "exited", init=True, errors=2, did="u3"),
    )
    digest(batch + batch[:1])  # once more within the batch, too
    digest(batch)
    digest(batch[1:2] + items(project, session("g", "exited", did="u2")))  # a new update with it
    f = figures(project)
    assert (f.sessions, f.errored, f.crashed, f.users, f.crashed_users) == (3, 3, 1, 3, 1)
    # One receipt per batch that counted something, not a row per item; and a session that began
    # and ended in one update keeps no state.
    assert HealthReceipt.objects.filter(project_id=project.pk).count() == 2
    assert list(SessionState.objects.values_list("status", flat=True)) == ["exited"]


def test_a_session_that_begins_and_ends_in_one_update_is_counted_whole(project, digest):
    digest(
        items(
            project,
            session("w1", "exited", init=True, did="u1"),
            session("w2", "exited", init=True, errors=1, did="u2"),
            session("w3", "crashed", init=True, errors=1, did="u2"),
            session("w4", "abnormal", init=True, did="u3"),
        )
    )
    f = figures(project)
    assert (f.sessions, f.errored, f.crashed, f.abnormal) == (4, 3, 1, 1)
    assert (f.users, f.crashed_users) == (3, 1)
    assert not SessionState.objects.exists()


def test_aggregates_and_users(project, digest):
    aggregates = {
        "attrs": {"release": "app@1", "environment": "prod"},
        "aggregates": [
            {"started": NOW.isoformat(), "did": "u1", "exited": 3, "errored": 1},
            {"started": NOW.isoformat(), "did": "u2", "crashed": 1, "abnormal": 1},
            {"started": NOW.isoformat(), "exited": 2},
            {"started": "not a date", "exited": -5, "crashed": True},  # nothing to count
            "not a group",
        ],
    }
    digest(items(project, aggregates, kind="sessions"))
    digest(items(project, session("f", did="u1"), session("g", did="u3", release="app@2")))
    f = figures(project)
    assert (f.sessions, f.errored, f.crashed, f.abnormal) == (9, 3, 1, 1)
    assert (f.users, f.crashed_users) == (2, 1)
    assert f.crash_free_users == 0.5
    assert f.adoption == 9 / 10
    assert figures(project, "app@2").adoption == 1 / 10
    (bucket,) = ReleaseHealthBucket.objects.filter(release="app@1")
    assert bucket.hour == HOUR


def test_users_per_hour_are_bounded(project, digest, settings):
    settings.BUGSINK_ISSUES_RELEASE_HEALTH_MAX_USERS_PER_HOUR = 3
    for i in range(5):  # one batch each: a batch goes in spool-id order, random in the factory
        digest(items(project, session(f"s{i}", did=f"u{i}")))
    digest(items(project, session("s9", "crashed", did="u0")))  # a known user still counts
    f = figures(project)
    assert f.sessions == 6 and f.users == 3 and f.users_capped
    assert ReleaseHealthUser.objects.count() == 3 and f.crashed_users == 1


def test_malformed_and_releaseless_items_are_skipped(project, digest):
    digest(
        items(project, b"not json", b"[1]", {"sid": "x"}, session("", release="app@1"))
        + items(project, {"aggregates": "no"}, kind="sessions")
        + items(project, {"discarded_events": [{"quantity": "many"}, 3]}, kind="client_report")
    )
    assert not ReleaseHealthBucket.objects.exists() and not ClientReportCount.objects.exists()


def test_client_reports_are_summed_per_category_and_reason(project, digest):
    report = {
        "timestamp": NOW.isoformat(),
        "discarded_events": [
            {"reason": "sample_rate", "category": "error", "quantity": 3},
            {"reason": "sample_rate", "category": "error", "quantity": 1},
            {"reason": "ratelimit_backoff", "category": "transaction", "quantity": 7},
        ],
    }
    digest(items(project, report, report, kind="client_report"))
    counts = {
        (r.category, r.reason): r.quantity
        for r in ClientReportCount.objects.filter(project=project)
    }
    assert counts == {("error", "sample_rate"): 8, ("transaction", "ratelimit_backoff"): 14}


def test_old_state_and_buckets_are_pruned(project, digest, settings):
    settings.BUGSINK_ISSUES_RELEASE_HEALTH_RETENTION_DAYS = 1
    health._pruned_at.clear()  # whatever earlier tests' projects of the same id did
    digest(items(project, session("old", init=True)))
    SessionState.objects.update(updated_at=timezone.now() - timedelta(days=2))
    HealthReceipt.objects.update(created_at=timezone.now() - timedelta(days=3))
    ReleaseHealthBucket.objects.update(hour=HOUR - timedelta(days=3))
    digest(items(project, session("new", init=True, release="app@2")))
    # Pruning runs at most once a minute per project and process: not in this second batch.
    assert ReleaseHealthBucket.objects.count() == 2 and HealthReceipt.objects.count() == 2
    health.prune(project.pk)
    assert list(ReleaseHealthBucket.objects.values_list("release", flat=True)) == ["app@2"]
    assert list(SessionState.objects.values_list("status", flat=True)) == ["ok"]
    assert HealthReceipt.objects.count() == 1  # the new batch's


HOSTILE = "<script>alert(1)</script>@1"
HOSTILE_ENV = '"><img src=x onerror=alert(2)>'


def test_the_releases_page_shows_health_escaped_to_those_who_see_the_project(client, digest):
    member, outsider = make_user("member"), make_user("outsider")
    project = make_project("shop", team=make_team("t", members=[member]))
    make_project("elsewhere", team=make_team("other", members=[outsider]))
    digest(
        items(
            project,
            session("h1", "crashed", release=HOSTILE, env=HOSTILE_ENV),
            session("h2", "exited", release=HOSTILE, env=HOSTILE_ENV),
        )
    )
    url = reverse("bugsink_issues:project_releases", args=[project.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(member)
    page = client.get(url).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert html.escape(HOSTILE) in page and html.escape(HOSTILE_ENV) in page
    assert '<span class="bsk-crash-free-sessions">50.0%</span>' in page
    assert '<span class="bsk-adoption">100.0%</span>' in page


def test_the_settings_page_shows_client_reports_escaped(client, digest):
    admin = make_user("admin")
    project = make_project("shop", team=make_team("t", admins=[admin]))
    report = {"discarded_events": [{"reason": "<b>why</b>", "category": "error", "quantity": 5}]}
    digest(items(project, report, kind="client_report"))
    client.force_login(admin)
    page = client.get(reverse("bugsink_issues:project_settings", args=[project.pk])).content
    assert b'<td class="mono">&lt;b&gt;why&lt;/b&gt;</td><td>5</td>' in page


def test_a_release_has_a_page_with_its_health_issues_deploys_and_commits(client, digest):
    from bugsink_issues.models import Deploy, Issue, ReleaseCommit
    from tests.factories import python_exception, spooled

    member, outsider = make_user("member"), make_user("outsider")
    project = make_project("shop", team=make_team("t", members=[member]))
    other = make_project("elsewhere", team=make_team("other", members=[outsider]))
    # An issue first seen in 1.0 and seen again in the hostile release; one new in it.
    digest([spooled(project, python_exception("OldError", "old", release="1.0"))])
    digest(
        [
            spooled(project, python_exception("OldError", "old", release=HOSTILE)),
            spooled(project, python_exception("NewError", "<b>new</b>", release=HOSTILE)),
            spooled(project, python_exception("NewError", "<b>new</b>", release=HOSTILE)),
        ]
    )
    digest(
        items(
            project,
            session("p1", "crashed", did="u1", release=HOSTILE, env=HOSTILE_ENV),
            session("p2", "exited", errors=1, did="u2", release=HOSTILE, env=HOSTILE_ENV),
            session("p3", "exited", did="u2", release=HOSTILE, env=HOSTILE_ENV),
            session("p4", "exited", did="u3", release="1.0"),
        )
    )
    deploy = Deploy.objects.create(version=HOSTILE, environment="<i>prod</i>", name="first")
    deploy.projects.add(project)
    ReleaseCommit.objects.create(
        version=HOSTILE, commit_id="abcdef1234567890", message="<u>fix</u>", author_name="Ann"
    )
    release = Release.objects.get(project=project, version=HOSTILE)
    url = reverse("bugsink_issues:release", args=[project.pk, release.pk])

    client.force_login(member)
    listing = client.get(reverse("bugsink_issues:project_releases", args=[project.pk]))
    assert f'href="{url}"' in listing.content.decode()  # the list links to it
    page = client.get(url).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "<b>new</b>" not in page and "<i>prod</i>" not in page and "<u>fix</u>" not in page
    assert f'<h2 class="mono bsk-release-version">{html.escape(HOSTILE)}</h2>' in page
    assert html.escape(HOSTILE_ENV) in page and "&lt;i&gt;prod&lt;/i&gt;" in page
    assert '<td class="bsk-sessions">3</td>' in page and '<td class="bsk-crashed">1</td>' in page
    assert "66.7%" in page  # crash-free sessions: 2 of 3
    assert '<td class="bsk-crash-free-users">50.0%</td>' in page  # u1 crashed, u2 not
    assert '<td class="bsk-adoption">75.0%</td>' in page  # 3 of the project's 4 sessions
    new_issue = Issue.objects.get(project=project, first_release=HOSTILE)
    old_issue = Issue.objects.get(project=project, first_release="1.0")
    new_part = page.split('class="bsk-plain bsk-new-issues"')[1].split("</ul>")[0]
    seen_part = page.split('class="bsk-plain bsk-seen-issues"')[1].split("</ul>")[0]
    new_link = reverse("bugsink_issues:issue", args=[new_issue.pk])
    old_link = reverse("bugsink_issues:issue", args=[old_issue.pk])
    assert new_link in new_part and old_link not in new_part
    assert new_link in seen_part and old_link in seen_part
    assert "2 events in this release" in seen_part and "1 events in this release" in seen_part
    assert "abcdef123456" in page and "Ann" in page and "&lt;u&gt;fix&lt;/u&gt;" in page

    # Not to those who do not see the project, nor through another project's address.
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    foreign = reverse("bugsink_issues:release", args=[other.pk, release.pk])
    assert client.get(foreign).status_code == 404


def test_a_release_page_without_sessions_or_tooling(client, digest):
    member = make_user("member")
    project = make_project("shop", team=make_team("t", members=[member]))
    release = Release.objects.create(project=project, version="2.0")
    client.force_login(member)
    page = client.get(reverse("bugsink_issues:release", args=[project.pk, release.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'class="muted bsk-no-sessions"' in text and "No deploys" in text and "No commits" in text


def test_a_straggler_gets_a_receipt_of_its_own_and_counts_once(project, digest):
    from dataclasses import replace

    from bugsink_ingest.spool.records import new_spool_id
    from bugsink_issues.models import HealthReceipt

    old = new_spool_id()
    old = f"{int(old[:20]) - 3600 * 10**9:020d}{old[20:]}"  # an hour earlier: restored late
    batch = [replace(s, spool_id=new_spool_id()) for s in items(project, session("n1", did="u1"))]
    batch += [replace(items(project, session("o1", did="u2"))[0], spool_id=old)]
    digest(batch)
    digest(batch)  # redelivered: nothing counted twice
    f = figures(project)
    assert (f.sessions, f.users) == (2, 2)
    ranges = sorted(HealthReceipt.objects.values_list("first_item", "last_item"))
    assert ranges == sorted((s.spool_id, s.spool_id) for s in batch)  # narrow: one per run
