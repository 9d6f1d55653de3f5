"""The UI: server time of the issue list and the issue detail with 10,000 issues and 1,000,000
events in SQLite, side by side with a trivial view through the same stack (the floor), same run.

`python -m benchmarks ui [--issues=N] [--events=N] [--requests=N]`

benchmarks.ui_data builds the database once (cached under the temp dir, keyed by the schema).
Requests go through Django's test client (full middleware, session, auth, the access policy, the
templates), logged in as a team member, not a superuser. Each timing is one request's wall time.

  floor         a view returning a fixed response through the same middleware and login;
  issue list    the project's issue list: status tabs, the three sorts, a text search, a tag
                search (release:), a later page through the keyset cursor; sparklines included;
  issue detail  random issues' detail page (stack-trace tab: latest event decompressed, Pygments,
                event navigation, 30-day chart), 10% of them the 20 hottest issues;
  detail tabs   the other tabs (events, tags, history, grouping, details) of random issues.
Target: p95 <= 50 ms for the issue list and the issue detail.
"""

import html
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _arg(argv, name, default):
    for i, arg in enumerate(argv):
        if arg.startswith(name + "="):
            return int(arg.split("=", 1)[1])
        if arg == name and i + 1 < len(argv):
            return int(argv[i + 1])
    return default


def main(argv):
    subprocess.run(
        [sys.executable, "-m", "benchmarks.ui", "--driver", *argv],
        check=True,
        cwd=ROOT,
        timeout=3600,
    )


def _configure(db_path):
    import django
    from django.conf import settings

    from harness.settings import SQLITE_OPTIONS, SQLITE_WAL, TASKS_APPS, shared, sqlite_database

    settings.configure(
        **{
            **shared(),
            "ROOT_URLCONF": "benchmarks.ui",
            "INSTALLED_APPS": [
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "django.contrib.sessions",
                "django.contrib.messages",
                "django.contrib.staticfiles",
                *TASKS_APPS,
                "bugsink_ingest",
                "bugsink_issues",
            ],
            "DATABASES": {
                "default": sqlite_database(str(db_path), {**SQLITE_OPTIONS, **SQLITE_WAL})
            },
            # Sessions in a signed cookie: the measured requests read the database, never write it.
            "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
        }
    )
    django.setup()


def floor(request):
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse

    return login_required(lambda r: HttpResponse(b"ok"))(request)


def _urlpatterns():
    from django.urls import include, path

    return [path("floor/", floor), path("", include("bugsink_issues.urls"))]


def __getattr__(name):  # ROOT_URLCONF is this module; patterns built lazily after setup
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def _ensure_db(issues, events):
    from benchmarks import ui_data

    path = ui_data.cache_path(issues, events)
    if path.exists():
        return path, False
    building = path.with_suffix(".building")
    for p in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        p.unlink(missing_ok=True)
    return building, True


def _timed(client, urls):
    times = []
    for url in urls:
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def _row(name, times):
    q = statistics.quantiles(times, n=100)
    return f"{name:<14} {len(times):>5} {q[49]:>9.1f} {q[94]:>9.1f} {max(times):>9.1f}"


def driver(argv):
    issues = _arg(argv, "--issues", 10_000)
    events = _arg(argv, "--events", 1_000_000)
    n = _arg(argv, "--requests", 200)
    path, must_build = _ensure_db(issues, events)
    _configure(path)
    from django.core.management import call_command

    from benchmarks import ui_data

    if must_build:
        t0 = time.perf_counter()
        print(f"building {issues} issues / {events} events (cached afterwards)...", flush=True)
        call_command("migrate", verbosity=0)
        ui_data.build(issues, events)
        from django.db import connections

        with connections["default"].cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connections.close_all()
        final = ui_data.cache_path(issues, events)
        shutil.move(path, final)
        print(f"built in {time.perf_counter() - t0:.0f} s: {final}", flush=True)
        os.execv(sys.executable, [sys.executable, "-m", "benchmarks.ui", "--driver", *argv])

    from django.contrib.auth import get_user_model
    from django.test import Client

    from bugsink_issues.models import Issue

    client = Client()
    user = get_user_model().objects.get(username="bench")
    client.force_login(user)
    project_id = Issue.objects.values_list("project_id", flat=True).first()
    base = f"/projects/{project_id}/"
    rng = random.Random(7)
    first_page = client.get(base).content.decode()
    next_href = html.unescape(re.search(r'href="([^"]+)" rel="next"', first_page).group(1))
    list_variants = [
        base,
        base + "?status=resolved",
        base + "?status=muted",
        base + "?status=all",
        base + "?sort=first_seen",
        base + "?sort=events",
        base + "?q=handler+42",
        base + "?q=release:1.3.0",
        base + next_href,
        "/issues/",
    ]
    ids = list(Issue.objects.values_list("pk", flat=True))
    hot = list(Issue.objects.order_by("-event_count").values_list("pk", flat=True)[:20])
    detail_ids = [rng.choice(hot) if i % 10 == 0 else rng.choice(ids) for i in range(n)]
    tabs = ["events", "tags", "history", "grouping", "details"]

    _timed(
        client, ["/floor/"] * 20 + list_variants + [f"/issues/{i}/" for i in detail_ids[:10]]
    )  # warm
    results = [
        ("floor", _timed(client, ["/floor/"] * n)),
        ("issue list", _timed(client, [list_variants[i % len(list_variants)] for i in range(n)])),
        ("issue detail", _timed(client, [f"/issues/{i}/" for i in detail_ids])),
        (
            "detail tabs",
            _timed(client, [f"/issues/{i}/?tab={tabs[k % 5]}" for k, i in enumerate(detail_ids)]),
        ),
    ]
    print(
        f"\nUI server time, {issues:,} issues / {events:,} events, SQLite, Django test client (ms)"
    )
    print(f"{'page':<14} {'reqs':>5} {'p50':>9} {'p95':>9} {'max':>9}")
    for name, times in results:
        print(_row(name, times))
    floor_p50 = statistics.median(results[0][1])
    for name, times in results[1:]:
        print(f"{name}: p50 is {statistics.median(times) / floor_p50:.1f}x the floor")
    print("target: issue list and issue detail p95 <= 50 ms")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--driver"]:
        driver(sys.argv[2:])
    else:
        main(sys.argv[1:])
