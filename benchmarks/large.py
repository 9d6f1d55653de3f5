"""Cost as the data grows: the UI's pages through Gunicorn over HTTP at several sizes, one run.

`python -m benchmarks large [--scales 10k,1m,5m] [--projects 20] [--requests 200]
                            [--database-url postgres://user:password@host:port/]`

Each scale is a number of events (10k, 1m, 5m, or a plain number), in events / 50 issues spread
over the projects (benchmarks.seed builds it; SQLite files are cached under the temp dir). With
--database-url the benchmark creates a PostgreSQL database of its own on that server for each
scale, seeds it, measures and drops it.

For each scale Gunicorn serves the UI with the reference configuration
(example_project/gunicorn_conf.py: gthread, a worker per CPU) and a client asks one page at a time
over a keep-alive connection, logged in as a team member (a session cookie, not a superuser); a
timing is the client's, from the first byte sent to the whole answer read:

  floor         a trivial view behind the same middleware and login;
  issue list    the project with the hottest issue: its default list, sorted by events, all;
  text search   that project's list with free text (a narrow term, a broad one, a type);
  tag search    that project's list with release:1.N.0;
  issue page    random issues' page (stack-trace tab of the latest ~11 KB event), 10% the hottest;
  event page    a random stored event of random issues (the same tab for that event).

Prints one table, a column per scale, with `uptime`'s load before and after each scale.
Target: p95 <= 50 ms for every page.

With --time-migrations (SQLite: on a copy of the cached file), each scale's database is then taken
back to bugsink_issues' FROM migration (default: the last one before this release's, see the
package's CHANGELOG) and `migrate` brings it forward again, timed per migration, as an upgrade of
an installation of that size would run.

With --e2e N, each scale's database (SQLite: a copy) is also served by the whole reference
deployment (`manage.py serve`: Gunicorn and the foreman) and takes N events of the 1,000-issue mix
into the project of the hottest issue at concurrency 32, its retention cap set to what it holds (so
every new event evicts one, the steady state of a full installation); an empty database's deployment
runs the same load before the first scale and after the last, for the ratio. Target: within 20%.
"""

import argparse
import contextlib
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks import seed

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["floor", "issue list", "text search", "tag search", "issue page", "event page"]
TEXT_SEARCHES = ["handler+42", "something+failed", "error17"]
# The last bugsink_issues migration of the previous release: this release's start after it.
RELEASE_BASE = "0013_api_issues"


def scale_events(name):
    name = name.strip().lower()
    for suffix, factor in (("k", 1_000), ("m", 1_000_000)):
        if name.endswith(suffix):
            return int(float(name[:-1]) * factor)
    return int(name)


def parser():
    p = argparse.ArgumentParser(prog="python -m benchmarks large")
    p.add_argument("--scales", default="10k,1m", help="comma-separated: 10k,1m,5m")
    p.add_argument("--projects", type=int, default=20)
    p.add_argument("--requests", type=int, default=200, help="per page and scale")
    p.add_argument("--database-url", default="", help="a PostgreSQL server; default: SQLite")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    p.add_argument(
        "--time-migrations",
        nargs="?",
        const=RELEASE_BASE,
        default="",
        metavar="FROM",
        help=f"time migrate from bugsink_issues FROM (default {RELEASE_BASE}) at each scale",
    )
    p.add_argument("--e2e", type=int, default=0, metavar="N", help="end-to-end events per scale")
    return p


def _uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _load(line):
    return line.rsplit("load average:", 1)[-1].strip()


def _pg_admin(url, statement):
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def main(argv):
    args = parser().parse_args(argv)
    vendor = "PostgreSQL" if args.database_url else "SQLite"
    print(f"start: {_uptime()}", flush=True)
    results = []
    e2e_empty = []
    if args.e2e:
        e2e_empty.append(_e2e_empty(args.database_url, args.e2e, "empty database, before"))
    for name in args.scales.split(","):
        events = scale_events(name)
        issues = max(events // seed.EVENTS_PER_ISSUE, 1)
        database = (
            _fresh_database(args.database_url, str(events), keep=args.keep)
            if args.database_url
            else contextlib.nullcontext("")
        )
        with database as target_url:
            before_build = _uptime()
            target, built = seed.seed(issues, events, args.projects, target_url)
            out = seed.run_driver(
                "benchmarks.large", "--driver", target, str(args.requests), timeout=3600
            )
            if args.e2e:
                e2e_result = _e2e_run(target, args.e2e, f"{name} events")
            if args.time_migrations:
                out += _time_migrations(
                    target, database_url=bool(target_url), base=args.time_migrations
                )
        sys.stdout.write(out)
        lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        result = next(x for x in lines if "pages" in x)
        result["migrations"] = next((x["migrations"] for x in lines if "migrations" in x), None)
        result["e2e"] = e2e_result if args.e2e else None
        result.update(
            name=name, events=events, issues=issues, built=built, load_build=_load(before_build)
        )
        results.append(result)
    if args.e2e:
        e2e_empty.append(_e2e_empty(args.database_url, args.e2e, "empty database, after"))
    print(f"end: {_uptime()}", flush=True)
    _table(results, vendor, args.projects)
    if args.e2e:
        _e2e_table(results, e2e_empty)


def _hot_project(target):
    """(project id, public key) of the project with the hottest issue, and the retention caps set
    to what each project holds (read and written without Django: the deployment owns it)."""
    caps = (
        "UPDATE bugsink_issues_projectsettings SET retention_max_events = stored_event_count "
        "WHERE stored_event_count > 0"
    )
    hot = "SELECT project_id FROM bugsink_issues_issue ORDER BY event_count DESC LIMIT 1"
    key = "SELECT public_key FROM bugsink_ingest_projectkey WHERE project_id = {} LIMIT 1"
    if target.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(caps)
            project_id = conn.execute(hot).fetchone()[0]
            return project_id, conn.execute(key.format(int(project_id))).fetchone()[0]
    import sqlite3

    conn = sqlite3.connect(target)
    try:
        with conn:
            conn.execute(caps)
        project_id = conn.execute(hot).fetchone()[0]
        return project_id, conn.execute(key.format(int(project_id))).fetchone()[0]
    finally:
        conn.close()


@contextlib.contextmanager
def _fresh_database(database_url, name, keep=False):
    """A new PostgreSQL database on the server of `database_url`: its URL, dropped after."""
    from harness.postgres_server import drop_database

    database = f"bench_large_{name}_{uuid.uuid4().hex[:6]}"
    _pg_admin(database_url, f'CREATE DATABASE "{database}"')
    parts = urlsplit(database_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{database}"))
    finally:
        if not keep:
            drop_database(urlunsplit(parts._replace(path="/postgres")), database)


def _e2e_empty(database_url, events, label):
    """The baseline: the same run on an empty database of the same kind (a fresh PostgreSQL
    database when the scales are on PostgreSQL)."""
    if not database_url:
        return _e2e_run("", events, label)
    with _fresh_database(database_url, "empty") as url:
        return _e2e_run(url, events, label, seeded=False)


def _e2e_run(target, events, label, seeded=True):
    """One deployment on `target` (a seeded SQLite file, copied; a PostgreSQL URL, seeded or not;
    "" for an empty SQLite database) and one measured run of `events` events at concurrency 32
    (benchmarks.e2e's)."""
    import tempfile

    from benchmarks.e2e import measured_run, summary_line
    from harness.deployment import Deployment, Dsn, StoredEvents
    from harness.loadgen import LoadGenerator
    from harness.payloads import EnvelopeFactory, capture_templates

    work = Path(tempfile.mkdtemp(prefix="bench-large-e2e-"))
    data_dir = work / "data"
    data_dir.mkdir()
    env = {}
    if target.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = target
    elif target:
        shutil.copyfile(target, data_dir / "db.sqlite3")
    deployment = Deployment(data_dir, env=env, web_concurrency=None)
    try:
        templates = capture_templates(work / "templates")
        print(f"  e2e on the {label}: starting the deployment ({_load(_uptime())})", flush=True)
        deployment.start(timeout=600)
        if target and seeded:
            project_id, public_key = _hot_project(
                env.get("DATABASE_URL") or str(data_dir / "db.sqlite3")
            )
            deployment._dsn = Dsn(public_key, int(project_id), "")
        store = StoredEvents.of(deployment)
        factory = EnvelopeFactory(templates, deployment.dsn.public_key)
        warm = LoadGenerator(deployment.port, deployment.dsn.envelope_path, factory.headers(), 4)
        before = store.digested()
        warmed = warm.run(lambda i: warm.prepare(factory.make("small", i)) if i < 50 else None)
        store.wait_for(before + len(warmed.accepted), 300)
        time.sleep(3)
        run = measured_run(deployment, store, factory, "distinct", 32, events)
        store.close()
        print(f"    -> {summary_line(run)}", flush=True)
        run["label"] = label
        return run
    finally:
        deployment.stop()
        shutil.rmtree(work, ignore_errors=True)


def _e2e_table(results, empty):
    print("\nEnd to end (the reference deployment), 1,000-issue mix, concurrency 32:")
    print("| database | stored/s | accepted/s | p99 ms | evicted | all stored | load1 before |")
    print("|---|---|---|---|---|---|---|")
    runs = [empty[0], *[r["e2e"] for r in results], *empty[1:]]
    for run in runs:
        print(
            f"| {run['label']} | {run['e2e_per_s']:,.0f} | {run['accepted_per_s']:,.0f} "
            f"| {run['latency_ms'][99]:.1f} | {run['evicted_by_retention']:,} "
            f"| {run['all_stored']} | {run['load1_before']:.2f} |"
        )
    base = statistics.mean(run["e2e_per_s"] for run in empty)
    for r in results:
        print(f"  {r['name']}: {r['e2e']['e2e_per_s'] / base:.2f} of the empty database's rate")
    print("target: within 20% of the empty database's")


def _time_migrations(target, database_url, base):
    """Run the migrate driver on the scale's database (SQLite: a copy, the cache stays as built)."""
    copy = None
    if not database_url:
        copy = str(Path(target).with_suffix(".migrating"))
        shutil.copyfile(target, copy)
    try:
        return seed.run_driver("benchmarks.large", "--migrate-driver", copy or target, base)
    finally:
        for suffix in ("", "-wal", "-shm"):
            if copy:
                Path(copy + suffix).unlink(missing_ok=True)


def migrate_driver(target, base):
    """Back to `base`, then forward to the latest migration: the forward run timed, per migration
    (Django's own timings at verbosity 2) and in all."""
    import io
    import re

    from benchmarks import ui

    ui._configure(target)
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", "bugsink_issues", base, verbosity=0)
    back = time.perf_counter() - t0
    out = io.StringIO()
    t0 = time.perf_counter()
    call_command("migrate", verbosity=2, stdout=out)
    forward = time.perf_counter() - t0
    steps = {
        name: float(seconds)
        for name, seconds in re.findall(r"Applying (\S+)\.\.\. OK \(([\d.]+)s\)", out.getvalue())
    }
    print(
        json.dumps({"migrations": {"back": back, "forward": forward, "steps": steps}}), flush=True
    )


def _table(results, vendor, projects):
    width = 15
    print(
        f"\nUI through Gunicorn over HTTP, {vendor}, {projects} projects, one keep-alive "
        "connection, client time (ms): p50 / p95"
    )
    print(f"{'page':<14}" + "".join(f"{r['name'] + ' events':>{width}}" for r in results))
    for page in PAGES:
        cells = [f"{r['pages'][page]['p50']:.1f} / {r['pages'][page]['p95']:.1f}" for r in results]
        print(f"{page:<14}" + "".join(f"{c:>{width}}" for c in cells))
    print(f"{'issues':<14}" + "".join(f"{r['issues']:>{width},}" for r in results))
    print(f"{'hot project':<14}" + "".join(f"{r['project_issues']:>{width},}" for r in results))
    builds = ["cached" if r["built"] is None else f"{r['built']:.0f}" for r in results]
    print(f"{'build (s)':<14}" + "".join(f"{b:>{width}}" for b in builds))
    print("load (1/5/15 min) before and after each scale's measurement:")
    for r in results:
        print(f"  {r['name']}: before {r['load_before']}; after {r['load_after']}")
    print("per request (p50 ms):")
    for r in results:
        print(f"  {r['name']}: " + "; ".join(f"{k} {v:.1f}" for k, v in r["variants"].items()))
    print("target: p95 <= 50 ms for every page")
    for r in results:
        if r["migrations"]:
            m = r["migrations"]
            steps = "; ".join(f"{k} {v:.1f} s" for k, v in m["steps"].items())
            print(
                f"migrate at {r['name']}: forward {m['forward']:.1f} s ({steps}); "
                f"back to the release's start first: {m['back']:.1f} s"
            )


def _stats(times):
    q = statistics.quantiles(times, n=100)
    return {"p50": q[49], "p95": q[94], "max": max(times), "n": len(times)}


def driver(target, n):
    from benchmarks import ui

    ui._configure(target)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.test import Client

    from bugsink_issues.models import Event, Issue
    from harness.loadgen import Connection
    from harness.processes import stop, wait_for_port

    # A real login's session cookie (signed: the server checks it with the same secret).
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    rng = random.Random(7)
    hot_issue = Issue.objects.order_by("-event_count").values("pk", "project_id").first()
    project_id = hot_issue["project_id"]
    project_issues = Issue.objects.filter(project_id=project_id).count()
    base = f"/projects/{project_id}/"
    lists = [base, base + "?sort=events", base + "?status=all"]
    texts = [base + "?q=" + q for q in TEXT_SEARCHES]
    tags = [base + f"?q=release:1.{k}.0" for k in (3, 7, 11, 19)]
    counts = dict(Issue.objects.values_list("pk", "stored_event_count"))
    ids = list(counts)
    hot = list(Issue.objects.order_by("-event_count").values_list("pk", flat=True)[:20])
    picked = [rng.choice(hot) if i % 10 == 0 else rng.choice(ids) for i in range(n)]
    issue_pages = [f"/issues/{pk}/" for pk in picked]
    event_pages = []
    for k in range(len(picked)):
        other = rng.choice(hot) if k % 10 == 5 else rng.choice(ids)
        seq = rng.randint(1, counts[other])
        event = Event.objects.filter(issue_id=other, issue_sequence=seq).values("pk").first()
        event_pages.append(f"/issues/{other}/events/{event['pk']}/")
    connections.close_all()

    port, work, proc = ui.start_gunicorn(target, "bench-large-")
    by_url = {}
    try:
        wait_for_port(port, proc, timeout=60)
        connection = Connection(port)

        def timed(paths):
            times = []
            for url in paths:
                request = (
                    f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n"
                ).encode()
                t0 = time.perf_counter()
                status, _headers, body = connection.request(request)
                ms = (time.perf_counter() - t0) * 1000
                times.append(ms)
                assert status == 200, (url, status, body[:300])
                by_url.setdefault(url, []).append(ms)
            return times

        # Warm every worker and thread (imports, connections, the compression dictionary).
        timed(["/floor/"] * 40 + (lists + texts + tags) * 3 + issue_pages[:10] + event_pages[:10])
        by_url.clear()
        load_before = _load(_uptime())

        def rotate(urls):
            return [urls[i % len(urls)] for i in range(n)]

        pages = {
            "floor": timed(["/floor/"] * n),
            "issue list": timed(rotate(lists)),
            "text search": timed(rotate(texts)),
            "tag search": timed(rotate(tags)),
            "issue page": timed(issue_pages),
            "event page": timed(event_pages),
        }
        load_after = _load(_uptime())
        connection.close()
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    variants = {
        url.split("?", 1)[-1] if "?" in url else "default list": statistics.median(times)
        for url, times in by_url.items()
        if url.startswith(base)
    }
    print(
        json.dumps(
            {
                "pages": {k: _stats(v) for k, v in pages.items()},
                "variants": variants,
                "project_issues": project_issues,
                "load_before": load_before,
                "load_after": load_after,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--driver"]:
        driver(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1:2] == ["--migrate-driver"]:
        migrate_driver(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1:])
