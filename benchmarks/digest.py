"""The digest: events/s from a pre-filled spool, and stored bytes per event, against a raw SQLite
insert of the same payloads (the ceiling), in the same run.

`python -m benchmarks digest [--events=N] [--large-events=N] [--batch=N] [--tables]
 [--scrubbing=compare] [--health=compare]`

Payloads are the real sentry-sdk's (harness.payloads captures them once): "one issue" replays
the ~4 KB event with fresh ids; "1,000 issues" also renames the exception class (1,000 classes);
"50 KB locals" replays the large event (deep frames with local variables); "source-mapped" sends
@sentry/browser-shaped events whose five frames point into a minified bundle with a ~1 MB source
map (esbuild output, uploaded as an artifact bundle with debug ids), so every event is mapped in
the digest (digest/sourcemaps.py; the first parse of the map is in the warm-up); "same, no maps"
is the control: the same events for a project without uploads (their debug ids name no map, so
each is noted as missing). The spool is pre-filled
in memory with SpooledEvent objects (reading the ingest spool from disk is ingest's cost, measured
in its own benchmark). Each mix runs in a fresh SQLite file (WAL, synchronous=NORMAL, BEGIN
IMMEDIATE) with the real migrations, in a driver subprocess so Django is configured once.

  digest ev/s   events / wall time of digest_batch over all batches (parse, normalise, group,
                compress, one transaction per batch: issues, events, tags, releases, retention);
  raw ev/s      the same JSON bytes inserted into a one-table SQLite file by executemany, one
                transaction per batch, no parsing, no compression, no indexes but the primary key;
  payload %     stored compressed payload bytes / raw JSON bytes;
  db B/ev       database file growth per event (after a WAL checkpoint), digest vs raw.

--tables adds where each mix's bytes went: growth per event of every table and its indexes
(SQLite's dbstat: whole pages, so page slack counts where it falls; "free pages" is the freelist).

--scrubbing=compare runs each mix twice in the same database, side by side: one project with
server-side scrubbing off, one with it on (the default), their batches interleaved (off-on, then
on-off) so that drift of the machine and growth of the database fall on both alike. It prints
both digest rates (wall time) and CPU time per event (this process's: other load on a shared
machine counts less), and the CPU phase alone (prepare_event: parse, normalise, scrub, group,
compress) in CPU microseconds per event, best of three interleaved passes over the payloads.

--health=compare runs the ~4 KB mixes twice in the same database, side by side, their batches
interleaved the same way: one project's batches hold the error events alone, the other's the same
events each with the release-health `session` item sentry-sdk sends beside it (a fresh sid, one of
1,000 users, application mode: `init` and `exited` in one update), and every 10th a cron check-in
(100 monitors), as the drain hands them over (sessions do not count towards a batch). It prints
both event rates, the digest's CPU time per event, and what the health items add per event in CPU
microseconds (the e2e benchmark's --with-health sends these items end to end, by default a
check-in in every 500th envelope).

--retention=compare runs the ~4 KB mixes twice in the same database, side by side, batches
interleaved the same way: two projects filled alike with as many events first, one then capped
at what it holds (each event stored there evicts its project's oldest), the other not. It prints both rates, the digest's CPU time per event, and what eviction adds per event.
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIXES = [
    ("one issue", "small"),
    ("1,000 issues", "distinct"),
    ("50 KB locals", "large"),
    ("source-mapped", "sourcemapped"),
    ("same, no maps", "unmapped"),
]
# The source-mapped mix: a generated TypeScript-like module of this many functions, bundled and
# minified by esbuild (the project's JS toolchain, tests/js), makes a map of about 1 MB.
SOURCEMAP_FUNCTIONS = 2600
SOURCEMAP_ISSUES = 50
ESBUILD = ROOT / "tests" / "js" / "node_modules" / ".bin" / "esbuild"


def _arg(argv, name, default):
    """`--name=N` (what `python -m benchmarks` passes through) or `--name N`."""
    for i, arg in enumerate(argv):
        if arg.startswith(name + "="):
            return int(arg.split("=", 1)[1])
        if arg == name and i + 1 < len(argv):
            return int(argv[i + 1])
    return default


def main(argv):
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.digest", "--driver", tmp, *argv],
            check=True,
            cwd=ROOT,
            timeout=3600,
        )


def _configure(data_dir):
    import django
    from django.conf import settings

    from harness.settings import SQLITE_OPTIONS, SQLITE_WAL, TASKS_APPS, shared, sqlite_database

    settings.configure(
        **{
            **shared(),
            "INSTALLED_APPS": [
                "django.contrib.contenttypes",
                "django.contrib.auth",
                *TASKS_APPS,
                "bugsink_ingest",
                "bugsink_issues",
            ],
            "DATABASES": {
                "default": sqlite_database(
                    str(data_dir / "main.sqlite3"), {**SQLITE_OPTIONS, **SQLITE_WAL}
                )
            },
            "BUGSINK_ISSUES_RETENTION_MAX_EVENTS": 10_000_000,
            "BUGSINK_ISSUES_ARTIFACT_DIR": str(data_dir / "artifacts"),
        }
    )
    django.setup()


def _has(module):
    from importlib.util import find_spec

    return find_spec(module) is not None


def _spooled_class():
    if _has("bugsink_ingest.spool"):
        from bugsink_ingest.spool import SpooledEvent

        return SpooledEvent
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class SpooledEvent:  # the contract's shape, until bugsink_ingest.spool exists
        spool_id: str
        project_id: int
        event_id: str
        received_at: datetime
        payload: bytes
        kind: str = "event"
        attachments: tuple = ()

    return SpooledEvent


def _event_json(envelope: bytes) -> bytes:
    lines = envelope.split(b"\n")
    for i, line in enumerate(lines[:-1]):
        if line.startswith(b"{") and b'"type":"event"' in line.replace(b" ", b""):
            header = json.loads(line)
            if "length" in header:
                start = len(b"\n".join(lines[: i + 1])) + 1
                return envelope[start : start + header["length"]]
            return lines[i + 1]
    raise ValueError("no event item in the template envelope")


def _payloads(factory, kind, count):
    out = []
    for index in range(count):
        event_id, raw = factory.raw(kind, index % 1000)
        out.append((event_id, _event_json(raw)))
    return out


def _generated_module():
    """A large module whose functions throw: its minified build has a ~1 MB map."""
    parts = []
    for n in range(SOURCEMAP_FUNCTIONS):
        parts.append(
            f"export function handler{n}(input: {{ id: number; name: string }}): string {{\n"
            f"  const label = 'handler {n} got ' + input.name;\n"
            f"  if (input.id < 0) {{\n"
            f"    throw new TypeError('bad input for handler{n}: ' + label);\n"
            f"  }}\n"
            f"  return label.toUpperCase() + {n};\n"
            f"}}\n"
        )
    return "".join(parts)


def _sourcemapped_setup(data_dir, project, count, upload=True):
    """Build the bundle, upload it for `project` (the assemble code path; `upload=False`: the
    control, the same events without maps), and make `count` browser-shaped events with frames
    at real throw sites of the minified file."""
    import hashlib
    import io
    import zipfile

    from bugsink_issues.artifacts.assemble import assemble_artifact_bundle
    from bugsink_issues.artifacts.store import blob_store

    work = data_dir / "sourcemapped"
    (work / "src").mkdir(parents=True, exist_ok=True)
    (work / "src" / "app.ts").write_text(_generated_module())
    subprocess.run(
        [str(ESBUILD), str(work / "src" / "app.ts"), "--bundle", "--minify", "--sourcemap",
         "--format=esm", f"--outfile={work / 'app.js'}", "--log-level=warning"],
        check=True, timeout=300,
    )  # fmt: skip
    minified, source_map = (work / "app.js").read_bytes(), (work / "app.js.map").read_bytes()
    debug_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "bench-sourcemapped"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("files/_/_/app.js", minified)
        archive.writestr("files/_/_/app.js.map", source_map)
        archive.writestr(
            "manifest.json",
            json.dumps(
                {
                    "files": {
                        "files/_/_/app.js": {"type": "minified_source", "url": "~/app.js",
                                             "headers": {"debug-id": debug_id}},
                        "files/_/_/app.js.map": {"type": "source_map", "url": "~/app.js.map",
                                                 "headers": {"debug-id": debug_id}},
                    }
                }
            ),
        )  # fmt: skip
    bundle = buffer.getvalue()
    store = blob_store()
    chunk = 8 * 1024 * 1024
    names = []
    for i in range(0, len(bundle), chunk):
        piece = bundle[i : i + chunk]
        names.append(hashlib.sha1(piece).hexdigest())
        store.save_chunk(names[-1], io.BytesIO(piece), gzipped=False, max_bytes=chunk)
    if upload:
        result = assemble_artifact_bundle(
            store, projects=[project], checksum=hashlib.sha1(bundle).hexdigest(), chunks=names
        )
        assert result.state == "ok", result.detail
    line = minified.decode()
    throws = []
    start = 0
    while len(throws) < SOURCEMAP_FUNCTIONS and (at := line.find("throw ", start)) >= 0:
        # One line per statement in esbuild's minified ESM? Count lines and columns as a browser.
        before = line[:at]
        throws.append((before.count("\n") + 1, at - (before.rfind("\n") + 1) + 1))
        start = at + 1
    url = "https://shop.example.com/assets/app.js"
    payloads = []
    for index in range(count):
        group = index % SOURCEMAP_ISSUES  # the frames decide the issue: 50 of them
        sites = [throws[(group * 37 + k * 131) % len(throws)] for k in range(5)]
        frames = [
            {"filename": url, "abs_path": url, "function": "x", "in_app": True,
             "lineno": ln, "colno": col}
            for ln, col in reversed(sites)
        ]  # fmt: skip
        event = {
            "platform": "javascript",
            "level": "error",
            "release": "bench@1.0.0",
            "exception": {"values": [{"type": "TypeError", "value": f"bad input {index}",
                                      "stacktrace": {"frames": frames}}]},
            "debug_meta": {"images": [{"type": "sourcemap", "code_file": url,
                                       "debug_id": debug_id}]},
            "sdk": {"name": "sentry.javascript.browser", "version": "11.12.0"},
        }  # fmt: skip
        payloads.append((uuid.uuid4().hex, json.dumps(event).encode()))
    return payloads, len(source_map)


def _db_size(path):
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, size = (
            conn.execute("PRAGMA page_count").fetchone()[0],
            conn.execute("PRAGMA page_size").fetchone()[0],
        )
    conn.close()
    return pages * size


def _object_bytes(path):
    """{(table, index or ""): bytes} from dbstat, plus ("free pages", "") for the freelist."""
    with sqlite3.connect(path) as conn:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_schema"))
        sizes = {}
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            sizes[(table, "" if table == name else name)] = size
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        sizes[("free pages", "")] = free * conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    return sizes


def _growth(before, after, n):
    return {k: (after.get(k, 0) - before.get(k, 0)) / n for k in after.keys() | before.keys()}


def _raw_insert(path, payloads, batch):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE event (id INTEGER PRIMARY KEY, project_id INTEGER, event_id TEXT, "
        "payload BLOB)"
    )
    empty = _db_size(path)
    started = time.perf_counter()
    for i in range(0, len(payloads), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO event (project_id, event_id, payload) VALUES (1, ?, ?)",
            payloads[i : i + batch],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, _db_size(path) - empty


def _driver(data_dir, argv):
    from harness.payloads import EnvelopeFactory, capture_templates

    tables = "--tables" in argv
    events = _arg(argv, "--events", 6000)
    large_events = _arg(argv, "--large-events", 1500)
    batch = _arg(argv, "--batch", 100)
    factory = EnvelopeFactory(capture_templates(data_dir / "templates"), "0" * 32)
    _configure(data_dir)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from bugsink_ingest.models import Project
    from bugsink_issues.digest import digest_batch
    from bugsink_issues.models import Event, Issue

    spooled_class = _spooled_class()
    if "--scrubbing=compare" in argv:
        return _compare_scrubbing(factory, events, large_events, batch, spooled_class)
    if "--health=compare" in argv:
        return _compare_health(factory, events, batch, spooled_class)
    if "--retention=compare" in argv:
        return _compare_retention(factory, events, batch, spooled_class)
    rows = []
    map_bytes = 0
    for label, kind in MIXES:
        project = Project.objects.create(name=label)
        if kind in ("sourcemapped", "unmapped"):
            payloads, size = _sourcemapped_setup(
                data_dir, project, events, upload=kind == "sourcemapped"
            )
            map_bytes = map_bytes or size
        else:
            payloads = _payloads(factory, kind, large_events if kind == "large" else events)
        now = datetime.now(UTC)
        spool = [
            spooled_class(uuid.uuid4().hex, project.pk, event_id, now, payload)
            for event_id, payload in payloads
        ]
        digest_batch(spool[:batch])  # warm-up (imports, first issue) outside the timing
        measured = spool[batch:]
        connection.close()
        before = _db_size(data_dir / "main.sqlite3")
        objects_before = _object_bytes(data_dir / "main.sqlite3") if tables else {}
        started = time.perf_counter()
        for i in range(0, len(measured), batch):
            digest_batch(measured[i : i + batch])
        elapsed = time.perf_counter() - started
        connection.close()
        db_growth = _db_size(data_dir / "main.sqlite3") - before
        objects_after = _object_bytes(data_dir / "main.sqlite3") if tables else {}
        raw_bytes = sum(len(p) for _, p in payloads[batch:])
        stored_bytes = sum(
            len(bytes(b))
            for b in Event.objects.filter(project=project).values_list("payload", flat=True)[batch:]
        )
        raw_elapsed, raw_growth = _raw_insert(
            str(data_dir / f"raw-{kind}.sqlite3"), payloads[batch:], batch
        )
        n = len(measured)
        rows.append(
            {
                "mix": label,
                "events": n,
                "issues": Issue.objects.filter(project=project).count(),
                "json_bytes": raw_bytes / n,
                "digest_eps": n / elapsed,
                "raw_eps": n / raw_elapsed,
                "payload_pct": 100 * stored_bytes / raw_bytes,
                "db_per_event": db_growth / n,
                "raw_db_per_event": raw_growth / n,
                "objects": _growth(objects_before, objects_after, n),
            }
        )
    _print(rows, batch)
    if map_bytes:
        mapped = Event.objects.filter(project__name="source-mapped").order_by("-pk").first()
        from bugsink_issues.digest.storage import load_payload

        frame = load_payload(mapped)["exception"]["values"][-1]["stacktrace"]["frames"][-1]
        print(
            f"source-mapped: a {map_bytes / 1e6:.2f} MB map; a stored top frame: "
            f"{frame.get('filename')}:{frame.get('lineno')} in {frame.get('function')} "
            "(target: >= 500 ev/s with the map applied to every event)"
        )
    if tables:
        _print_tables(rows)


def _batches(spool, batch):
    return [spool[i : i + batch] for i in range(0, len(spool), batch)]


def _interleaved(batches):
    """Digest batch n of each variant ({False: [...], True: [...]}) in turn, the order flipped every
    other n so that drift and growth fall on both alike: ({variant: wall s}, {variant: CPU s})."""
    from bugsink_issues.digest import digest_batch

    elapsed, cpu = {False: 0.0, True: 0.0}, {False: 0.0, True: 0.0}
    for n in range(len(batches[False])):
        for variant in (False, True) if n % 2 == 0 else (True, False):
            started, cpu_started = time.perf_counter(), time.process_time()
            digest_batch(batches[variant][n])
            elapsed[variant] += time.perf_counter() - started
            cpu[variant] += time.process_time() - cpu_started
    return elapsed, cpu


def _compare_scrubbing(factory, events, large_events, batch, spooled_class):
    from django.db import connection

    from bugsink_ingest.models import Project
    from bugsink_issues.digest import digest_batch
    from bugsink_issues.digest.prepare import prepare_event
    from bugsink_issues.digest.storage import load_payload
    from bugsink_issues.models import Event, ProjectSettings

    rows = []
    for label, kind in MIXES:
        payloads = _payloads(factory, kind, large_events if kind == "large" else events)
        now = datetime.now(UTC)
        spools, settings = {}, {}
        for scrub in (False, True):
            project = Project.objects.create(name=f"{label}, scrubbing {scrub}")
            settings[scrub] = ProjectSettings.objects.for_project(project.pk)
            ProjectSettings.objects.filter(pk=settings[scrub].pk).update(scrub_data=scrub)
            settings[scrub].refresh_from_db()
            spools[scrub] = [
                spooled_class(uuid.uuid4().hex, project.pk, event_id, now, payload)
                for event_id, payload in payloads
            ]
            digest_batch(spools[scrub][:batch])  # warm-up outside the timing
        connection.close()
        elapsed, cpu_digest = _interleaved(
            {v: _batches(spools[v][batch:], batch) for v in (False, True)}
        )
        connection.close()
        # The CPU phase alone, in CPU time (this process's, so that other load on the machine
        # counts less), passes interleaved, the best of three for each.
        options = {scrub: settings[scrub].digest_options() for scrub in (False, True)}
        cpu = {False: float("inf"), True: float("inf")}
        for _ in range(3):
            for scrub in (False, True):
                started = time.process_time()
                for spooled in spools[scrub]:
                    prepare_event(spooled, *options[scrub])
                cpu[scrub] = min(cpu[scrub], time.process_time() - started)
        cpu = {scrub: 1e6 * cpu[scrub] / len(payloads) for scrub in cpu}
        on_events = Event.objects.filter(project_id=spools[True][0].project_id)
        filtered = sum(
            load_payload(e).get("_scrubbed", {}).get("count", 0) for e in on_events[:200]
        ) / max(1, min(200, on_events.count()))
        n = len(payloads) - batch
        rows.append(
            _pair_row(
                label,
                n,
                elapsed,
                cpu_digest,
                prepare_off=cpu[False],
                prepare_on=cpu[True],
                filtered=filtered,
            )
        )
    print(
        f"digest benchmark, scrubbing off vs on side by side: batches of {batch}, "
        f"Python {sys.version.split()[0]}"
    )
    header = (
        f"{'mix':<14}{'events':>7}{'off ev/s':>9}{'on ev/s':>8}{'on/off':>7}"
        f"{'digest CPU us/ev off':>21}{'on':>6}{'+%':>7}"
        f"{'prepare us/ev off':>18}{'on':>6}{'+us':>5}{'filtered/ev':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        off, on = r["cpu_off"], r["cpu_on"]
        print(
            f"{r['mix']:<14}{r['events']:>7}{r['off_eps']:>9.0f}{r['on_eps']:>8.0f}"
            f"{r['on_eps'] / r['off_eps']:>7.3f}{off:>21.0f}{on:>6.0f}"
            f"{100 * (on - off) / off:>6.1f}%{r['prepare_off']:>18.0f}{r['prepare_on']:>6.0f}"
            f"{r['prepare_on'] - r['prepare_off']:>5.0f}{r['filtered']:>12.1f}"
        )


# --health=compare: a cron check-in beside every 10th event (e2e's heavy setting, not its default
# of one in 500), so that a check-in's cost shows above the noise
CHECK_IN_EVERY = 10


def _session_payload(factory, index):
    return factory.session_item(index).split(b"\n")[1]


def _compare_health(factory, events, batch, spooled_class):
    from django.db import connection

    from bugsink_ingest.models import Project
    from bugsink_ingest.spool.records import new_spool_id
    from bugsink_issues.digest import digest_batch
    from bugsink_issues.models import ReleaseHealthBucket

    rows = []
    for label, kind in MIXES[:2]:  # the ~4 KB mixes
        payloads = _payloads(factory, kind, events)
        now = datetime.now(UTC)
        batches = {}
        for health in (False, True):
            project = Project.objects.create(name=f"{label}, health {health}")
            spool = []
            for index, (event_id, payload) in enumerate(payloads):
                # spool ids as ingest makes them (ordered by arrival): health receipts go by them
                spool.append(spooled_class(new_spool_id(), project.pk, event_id, now, payload))
                if health:
                    spool.append(
                        spooled_class(
                            new_spool_id(), project.pk, uuid.uuid4().hex, now,
                            _session_payload(factory, index), kind="session",
                        )
                    )  # fmt: skip
                if health and index % CHECK_IN_EVERY == 0:
                    spool.append(
                        spooled_class(
                            new_spool_id(), project.pk, uuid.uuid4().hex, now,
                            factory.check_in_item().split(b"\n")[1], kind="check_in",
                        )
                    )  # fmt: skip
            per = batch + batch + batch // CHECK_IN_EVERY if health else batch
            batches[health] = [spool[i : i + per] for i in range(0, len(spool), per)]
            digest_batch(batches[health][0])  # warm-up outside the timing
        connection.close()
        elapsed, cpu = _interleaved({v: batches[v][1:] for v in (False, True)})
        connection.close()
        n = len(payloads) - batch
        counted = sum(
            ReleaseHealthBucket.objects.filter(project__name=f"{label}, health True").values_list(
                "sessions", flat=True
            )
        )
        rows.append(_pair_row(label, n, elapsed, cpu, sessions=counted))
    print(
        f"digest benchmark, error events alone vs each with its session item (and every "
        f"{CHECK_IN_EVERY}th a check-in), side by side: batches of {batch} events, "
        f"Python {sys.version.split()[0]}"
    )
    _print_pair(rows, ("sessions", lambda r: r["sessions"]), PAIR_HEALTH)


def _compare_retention(factory, events, batch, spooled_class):
    from django.db import connection

    from bugsink_ingest.models import Project
    from bugsink_issues.digest import digest_batch
    from bugsink_issues.models import Event, ProjectSettings

    rows = []
    for label, kind in MIXES[:2]:  # the ~4 KB mixes
        now = datetime.now(UTC)
        spools = {}
        for capped in (False, True):
            project = Project.objects.create(name=f"{label}, capped {capped}")
            # Both filled alike (the same issues exist before the timing); one is then capped.
            fill = _payloads(factory, kind, events)
            payloads = fill + _payloads(factory, kind, events)
            spools[capped] = [
                spooled_class(uuid.uuid4().hex, project.pk, event_id, now, payload)
                for event_id, payload in payloads
            ]
            for i in range(0, len(fill), batch):
                digest_batch(spools[capped][i : i + batch])
            if capped:
                held = ProjectSettings.objects.for_project(project.pk).stored_event_count
                ProjectSettings.objects.filter(project_id=project.pk).update(
                    retention_max_events=held
                )
            spools[capped] = spools[capped][len(fill) :]
            digest_batch(spools[capped][:batch])  # warm-up outside the timing
        connection.close()
        elapsed, cpu = _interleaved(
            {v: _batches(spools[v][batch:events], batch) for v in (False, True)}
        )
        connection.close()
        n = events - batch
        capped_project = spools[True][0].project_id
        rows.append(
            _pair_row(
                label,
                n,
                elapsed,
                cpu,
                held=Event.objects.filter(project_id=capped_project).count(),
                cap=ProjectSettings.objects.for_project(capped_project).retention_max_events,
            )
        )
    print(
        f"digest benchmark, below the retention cap vs at it (each event stored evicts one), "
        f"side by side: batches of {batch}, Python {sys.version.split()[0]}"
    )
    _print_pair(rows, ("held/cap", lambda r: f"{r['held']}/{r['cap']}"), PAIR_RETENTION)


# The labels of a side-by-side table's two rates, their CPU times per event and the difference.
PAIR_HEALTH = ("errors ev/s", "+health", "CPU us/ev errors", "+health", "health us")
PAIR_RETENTION = ("below ev/s", "at cap", "CPU us/ev below", "at cap", "evict us")


def _pair_row(mix, n, elapsed, cpu, **extra):
    """A row of a side-by-side table: both variants' rates and CPU us per event over n events."""
    return {
        "mix": mix,
        "events": n,
        "off_eps": n / elapsed[False],
        "on_eps": n / elapsed[True],
        "cpu_off": 1e6 * cpu[False] / n,
        "cpu_on": 1e6 * cpu[True] / n,
        **extra,
    }


def _print_pair(rows, extra, labels):
    """mix, events, a column of the comparison's own (extra: its label and value), both rates and
    their ratio, both CPU times per event and their difference."""
    label, value = extra
    names = ["events", label, labels[0], labels[1], "ratio", *labels[2:]]
    widths = [len(name) + 2 for name in names]
    header = f"{'mix':<14}" + "".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
    print(header)
    print("-" * len(header))
    for r in rows:
        cells = [
            r["events"],
            value(r),
            f"{r['off_eps']:.0f}",
            f"{r['on_eps']:.0f}",
            f"{r['on_eps'] / r['off_eps']:.3f}",
            f"{r['cpu_off']:.0f}",
            f"{r['cpu_on']:.0f}",
            f"{r['cpu_on'] - r['cpu_off']:.0f}",
        ]
        print(f"{r['mix']:<14}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))


def _print(rows, batch):
    print(
        f"digest benchmark: batches of {batch}, SQLite WAL/NORMAL, Python {sys.version.split()[0]}"
    )
    header = (
        f"{'mix':<14}{'events':>8}{'issues':>8}{'JSON B/ev':>11}{'digest ev/s':>13}"
        f"{'raw ev/s':>11}{'ratio':>8}{'payload %':>11}{'db B/ev':>10}{'raw db B/ev':>13}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['mix']:<14}{r['events']:>8}{r['issues']:>8}{r['json_bytes']:>11.0f}"
            f"{r['digest_eps']:>13.0f}{r['raw_eps']:>11.0f}"
            f"{r['digest_eps'] / r['raw_eps']:>8.3f}{r['payload_pct']:>10.1f}%"
            f"{r['db_per_event']:>10.0f}{r['raw_db_per_event']:>13.0f}"
        )
    print(
        "targets: >= 1,500 ev/s for ~4 KB events, >= 300 ev/s for 50 KB events, "
        "payload <= 40% of the raw JSON"
    )


def _print_tables(rows):
    """Bytes per event by table (its rows, then each index), one column per mix."""
    names = sorted(
        {k for r in rows for k, v in r["objects"].items() if abs(v) >= 0.5},
        key=lambda k: (-sum(r["objects"].get((k[0], ""), 0) for r in rows), k[0], k[1]),
    )
    print()
    print("bytes per event by table and index (dbstat growth)")
    header = f"{'table / index':<56}" + "".join(f"{r['mix']:>14}" for r in rows)
    print(header)
    print("-" * len(header))
    for table, index in names:
        label = f"  {index}" if index else table
        print(
            f"{label[:55]:<56}"
            + "".join(f"{r['objects'].get((table, index), 0):>14.0f}" for r in rows)
        )
    print(f"{'total':<56}" + "".join(f"{sum(r['objects'].values()):>14.0f}" for r in rows))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--driver"]:
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        _driver(Path(sys.argv[2]), sys.argv[3:])
    else:
        main(sys.argv[1:])
