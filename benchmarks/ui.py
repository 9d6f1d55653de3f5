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

Then the web API (/api/0/, bugsink_issues.api) on the same database, through Gunicorn with the
reference configuration (example_project/gunicorn_conf.py: gthread, a worker per CPU), asked one
request at a time over a keep-alive connection with a bearer token; each timing is the client's,
from the first byte sent to the whole answer read:

  api floor     GET /api/0/ (the token's check, the rate limit, ninja, JSON);
  api list      a project's issues as sentry-cli and the MCP server ask for them: the default
                (is:unresolved, 24h stats, 100 a page), query= (everything), sort=freq and new, a
                release: term, free text, the second page, the organization's list as the MCP
                server's search_issues sends it;
  api event     random issues' latest event (entries built from the ~11 KB payload), 10% of them
                the 20 hottest issues, and the same events by id under the project.
Target: p95 <= 50 ms for the API's issue list, <= 30 ms for an event.
"""

import html
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def database_settings(target):
    """The DATABASES entry for a SQLite file, or for a postgres:// URL (kept-open connections and
    their health checks, as the reference deployment has them on PostgreSQL)."""
    from harness.settings import SQLITE_OPTIONS, SQLITE_WAL, sqlite_database

    if not target.startswith(("postgres://", "postgresql://")):
        return sqlite_database(target, {**SQLITE_OPTIONS, **SQLITE_WAL})
    from urllib.parse import urlsplit

    url = urlsplit(target)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": url.path.lstrip("/"),
        "USER": url.username or "",
        "PASSWORD": url.password or "",
        "HOST": url.hostname or "",
        "PORT": url.port or "",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def _configure(db_path):
    import django
    from django.conf import settings

    from harness.settings import TASKS_APPS, shared

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
            "DATABASES": {"default": database_settings(str(db_path))},
            # Sessions in a signed cookie: the measured requests read the database, never write it.
            "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
            # The per-token limit is checked on every request, but never reached here.
            "BUGSINK_ISSUES_API_RATE_LIMIT_PER_MINUTE": 10**9,
        }
    )
    django.setup()


def api_application():
    """The WSGI app Gunicorn serves for the API part (`benchmarks.ui:api_application()`)."""
    _configure(os.environ["BENCH_UI_DB"])
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def start_gunicorn(database, prefix):
    """Gunicorn with the reference configuration serving `api_application()` on `database` (a
    SQLite path or a postgres:// URL): (port, its work directory, the process)."""
    from harness.processes import free_port, start

    port = free_port()
    work = Path(tempfile.mkdtemp(prefix=prefix))
    proc = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "example_project" / "gunicorn_conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "benchmarks.ui:api_application()",
        ],
        env={
            **os.environ,
            "BENCH_UI_DB": database,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        },
        cwd=ROOT,
        log_path=work / "gunicorn.log",
    )
    return port, work, proc


def floor(request):
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse

    return login_required(lambda r: HttpResponse(b"ok"))(request)


def _urlpatterns():
    from django.urls import include, path

    return [
        path("floor/", floor),
        path("api/0/", include("bugsink_issues.api.urls")),
        path("", include("bugsink_issues.urls")),
    ]


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
    _api(path, issues, events, n, user, project_id, ids, hot)


def _api(db_path, issues, events, n, user, project_id, ids, hot):
    from django.db import connections

    from bugsink_ingest.models import Project
    from bugsink_issues.models import ApiToken, Event
    from harness.loadgen import Connection
    from harness.processes import stop, wait_for_port

    _, token = ApiToken.objects.create_user_token(
        user, name="benchmark", scopes=["org:read", "project:read", "event:read"]
    )
    slug = Project.objects.get(pk=project_id).slug
    rng = random.Random(11)
    event_issues = [rng.choice(hot) if i % 10 == 0 else rng.choice(ids) for i in range(n)]
    latest_ids = {
        pk: Event.objects.filter(issue_id=pk)
        .order_by("-issue_sequence")
        .values_list("event_id", flat=True)
        .first()
        for pk in set(event_issues)
    }
    connections.close_all()

    base = f"/api/0/projects/bugsink/{slug}/issues/"
    org = "/api/0/organizations/bugsink"
    list_variants = [
        base,
        base + "?query=",
        base + "?sort=freq",
        base + "?sort=new",
        base + "?query=is:unresolved%20release:1.3.0",
        base + "?query=handler%2042",
        base + "?cursor=100:1:0",
        org
        + "/issues/?limit=10&sort=date&statsPeriod=24h&query=is%3Aunresolved&collapse=unhandled",
    ]
    event_paths = []
    for k, pk in enumerate(event_issues):
        if k % 2:
            event_paths.append(f"/api/0/projects/bugsink/{slug}/events/{latest_ids[pk]}/")
        else:
            event_paths.append(f"{org}/issues/{pk}/events/latest/")

    port, work, proc = start_gunicorn(str(db_path), "bench-ui-api-")
    try:
        wait_for_port(port, proc, timeout=60)
        connection = Connection(port)

        def timed(paths):
            times = []
            for url in paths:
                request = (
                    f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Authorization: Bearer {token}\r\n\r\n"
                ).encode()
                t0 = time.perf_counter()
                status, _headers, body = connection.request(request)
                times.append((time.perf_counter() - t0) * 1000)
                assert status == 200, (url, status, body[:300])
            return times

        # Warm every worker and thread (imports, connections, the compression dictionary).
        timed(["/api/0/"] * 40 + list_variants * 3 + event_paths[:20])
        list_paths = [list_variants[i % len(list_variants)] for i in range(n)]
        results = [
            ("api floor", timed(["/api/0/"] * n)),
            ("api list", timed(list_paths)),
            ("api event", timed(event_paths)),
        ]
        connection.close()
        by_variant = {}
        for url, ms in zip(list_paths, results[1][1], strict=True):
            by_variant.setdefault(url, []).append(ms)
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nWeb API through Gunicorn (gthread), {issues:,} issues / {events:,} events, SQLite, "
        "one keep-alive connection, client time (ms)"
    )
    print(f"{'answer':<14} {'reqs':>5} {'p50':>9} {'p95':>9} {'max':>9}")
    for name, times in results:
        print(_row(name, times))
    print("target: api list p95 <= 50 ms, api event p95 <= 30 ms")
    print("api list by request (ms): p50 / max")
    for url, times in by_variant.items():
        print(f"  {statistics.median(times):6.1f} {max(times):6.1f}  {url.split('?', 1)[-1][:70]}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--driver"]:
        driver(sys.argv[2:])
    else:
        main(sys.argv[1:])
