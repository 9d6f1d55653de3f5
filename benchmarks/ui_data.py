"""Builds the UI benchmarks' database: by default 10,000 issues and 1,000,000 events in one project
(benchmarks.ui); benchmarks.large and `python -m benchmarks seed` ask for more projects and events.

Issues are spread over the projects in turn (issue i in project i mod N), so every project has a
share of the hot issues and of the tail. Rows go in with executemany in large transactions (no digest: this is data for reading). Each
issue's latest event carries a real ~11 KB Python payload (stack trace with source context, locals,
breadcrumbs); older events carry a small one. Event counts are skewed like real projects: a few
hot issues (the hottest has ~6% of all events) and a long tail. The file is cached under the temp
dir, keyed by a hash of the migrations and of this module, so reruns start in seconds; on
PostgreSQL they go into the database the caller names.
"""

import hashlib
import json
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from harness.settings import SQLITE_WAL

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests/issues/data/samples/custom-fingerprint.json"
ISSUES = 10_000
EVENTS = 1_000_000
DAYS = 30
CHUNK = 20_000
SMALL_TEXTS = 20


def cache_path(issues=ISSUES, events=EVENTS, projects=1) -> Path:
    digest = hashlib.sha256()
    for app in (
        "django-bugsink-issues/src/bugsink_issues",
        "django-bugsink-ingest/src/bugsink_ingest",
    ):
        for path in sorted((ROOT / "packages" / app / "migrations").glob("*.py")):
            digest.update(path.name.encode() + path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    # The file's form (its page size) is set by the PRAGMAs it was made with.
    digest.update(SQLITE_WAL["init_command"].encode())
    directory = Path(tempfile.gettempdir()) / "bugsink-bench-ui"
    directory.mkdir(exist_ok=True)
    shape = f"{issues}-{events}" + (f"-{projects}p" if projects != 1 else "")
    return directory / f"ui-{shape}-{digest.hexdigest()[:16]}.sqlite3"


def _insert_indexed(cursor, model, rows, documents, fulltext):
    for row, doc_id in zip(rows, fulltext.assign_documents(documents), strict=True):
        row["search_doc_id"] = doc_id
    _insert(cursor, model, rows)


def _documents_in_bulk(cursor, plan, issue_rows, smalls, rich, fulltext):
    """PostgreSQL: every issue's documents made up front, with no events yet, in one COPY and
    one INSERT ... SELECT. assign_documents then finds them and counts the events in, rather
    than making each with an INSERT of its own: a round trip per document is what made the
    PostgreSQL build slow."""
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_docs (issue_id bigint, digest text, document text) "
        "ON COMMIT DROP"
    )
    with cursor.cursor.copy("COPY bench_docs (issue_id, digest, document) FROM STDIN") as copy:
        for issue_id, count, _first, _last in plan:
            row = issue_rows[issue_id - 1]
            texts = {fulltext.document_for(rich, row["title"], row["culprit"])}
            for seq in range(1, min(count, SMALL_TEXTS + 1)):
                small = smalls[seq % SMALL_TEXTS]
                texts.add(fulltext.document_for(small, row["title"], row["culprit"]))
            for text in texts:
                copy.write_row([issue_id, fulltext.digest_of(text), text])
    # The GIN index built after the rows, not filled through one INSERT of 1.46M rows: that one
    # leaves it twice the size and 20x slower to read `handler & 42` (70 against 3.3 ms at 5M),
    # where the digest's inserts (100 documents at a time: 1.2 ms at 300k documents, like a
    # fresh build's) do not.
    cursor.execute(f"DROP INDEX {fulltext.DOC_TABLE}_document")
    cursor.execute(
        f"INSERT INTO {fulltext.DOC_TABLE} (issue_id, digest, events, document) "
        f"SELECT b.issue_id, b.digest, 0, {fulltext.pg_document_sql('b.document', 'i.project_id')} "
        "FROM bench_docs b JOIN bugsink_issues_issue i ON i.id = b.issue_id"
    )
    cursor.execute(fulltext.PG_GIN_INDEX)
    cursor.execute(fulltext.PG_FILL_TERMS)


def event_counts(issues, events):
    weights = [1 / (i + 1) ** 0.9 for i in range(issues)]
    scale = (events - issues) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    counts[0] += events - sum(counts)  # exact total
    return counts


def _insert(cursor, model, rows):
    """executemany with every concrete column; missing ones get the field's default."""
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and f.name not in rows[0])
    ]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    marks = ", ".join("%s" for _ in fields)
    defaults = {f.attname: f.get_default() for f in fields}
    conn = cursor.db

    def value(f, row):
        raw = row.get(f.attname, row.get(f.name, defaults[f.attname]))
        return f.get_db_prep_save(raw, conn)

    if conn.vendor == "postgresql":
        # COPY: several times the rate of an executemany, even a pipelined one.
        with cursor.cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([value(f, row) for f in fields])
        return
    cursor.executemany(
        f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({marks})',
        [[value(f, row) for f in fields] for row in rows],
    )


def build(issues=ISSUES, events=EVENTS, projects=1, seed=1):
    """Fill the configured (empty, migrated) default database. Returns (user id, the first
    project's id): the project with the hottest issue."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from bugsink_ingest.models import Project, ProjectKey
    from bugsink_issues.digest.storage import compress, dump_json
    from bugsink_issues.models import (
        Event,
        Grouping,
        Issue,
        IssueTagValue,
        ProjectSettings,
        TagValue,
        fulltext,
        volume,
    )
    from bugsink_issues.models.access import ProjectTeam, Team, TeamMembership

    rng = random.Random(seed)
    now = timezone.now()
    start = now - timedelta(days=DAYS)
    span = (now - start).total_seconds()
    rich = json.loads(SAMPLE.read_bytes())
    rich_blob, dict_id = compress(dump_json(rich))
    # Older events say one of a few texts (an id in the message varies), as real issues do: the
    # full-text index then holds a few documents per issue, not one.
    smalls = [
        {"platform": "python", "level": "error", "message": f"small event for order {n}"}
        for n in range(SMALL_TEXTS)
    ]
    small_blobs = [compress(dump_json(small))[0] for small in smalls]

    user = get_user_model().objects.create_user("bench", password="bench")
    team = Team.objects.create(name="Bench team")
    TeamMembership.objects.create(team=team, user=user, role="admin")
    # The first keeps its old name: the web API's short ids are BENCH-PROJECT-<n> there.
    names = ["Bench project"] + [f"Bench project {n}" for n in range(2, projects + 1)]
    project_ids = []
    for name in names:
        project = Project.objects.create(name=name)
        ProjectTeam.objects.create(project=project, team=team)
        ProjectKey.objects.create(project=project)
        project_ids.append(project.pk)
    # Other teams' projects exist too, so the policy's filter has something to filter out.
    for n in range(3):
        Project.objects.create(name=f"Other {n}")

    counts = event_counts(issues, events)
    releases = [f"1.{n}.0" for n in range(20)]
    envs = ["production", "staging"]
    statuses = ["unresolved"] * 8 + ["resolved", "muted"]
    tag_values = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for pid in project_ids:
            for key, values in (("release", releases), ("environment", envs)):
                for v in values:
                    tag_values[(pid, key, v)] = TagValue.objects.create(
                        project_id=pid, key=key, value=v
                    ).pk
        issue_rows, grouping_rows, tag_rows = [], [], []
        plan = []
        numbers = dict.fromkeys(project_ids, 0)
        for i in range(issues):
            pid = project_ids[i % projects]
            numbers[pid] += 1
            first = start + timedelta(seconds=rng.random() * span * 0.9)
            last = first + timedelta(seconds=rng.random() * (now - first).total_seconds())
            plan.append((i + 1, counts[i], first, last))
            exc = f"Error{i % 997}"
            issue_rows.append(
                {
                    "id": i + 1,
                    "project_id": pid,
                    "grouping_key": hashlib.sha256(str(i).encode()).hexdigest(),
                    "title": f"{exc}: something failed in handler {i}",
                    "culprit": f"app.views.handler_{i % 500}",
                    "level": "error" if i % 7 else "warning",
                    "platform": "python",
                    "first_seen": first,
                    "last_seen": last,
                    "event_count": counts[i],
                    "stored_event_count": counts[i],
                    "first_release": releases[0],
                    "last_release": releases[-1],
                    "status": statuses[i % len(statuses)],
                    "mute_window_hits": [],
                    "number": numbers[pid],  # the short id BENCH-PROJECT-<n> of the web API
                }
            )
            grouping_rows.append(
                {
                    "id": i + 1,
                    "project_id": pid,
                    "issue_id": i + 1,
                    "key": issue_rows[-1]["grouping_key"],
                    "version": 1,
                    "parts": {"kind": "exception", "parts": [exc, "app.views", f"handler_{i}"]},
                    "created_at": first,
                }
            )
            for key, value in (("release", releases[i % 20]), ("environment", envs[i % 2])):
                tag_rows.append(
                    {
                        "issue_id": i + 1,
                        "tag_value_id": tag_values[(pid, key, value)],
                        "key": key,
                        "count": counts[i],
                        "first_seen": first,
                        "last_seen": last,
                    }
                )
        _insert(cursor, Issue, issue_rows)
        _insert(cursor, Grouping, grouping_rows)
        _insert(cursor, IssueTagValue, tag_rows)

        # The full-text index (models/fulltext/) gets each event's document, as the digest
        # assigns it: the free-text searches then read a real index.
        if connection.vendor == "postgresql":
            _documents_in_bulk(cursor, plan, issue_rows, smalls, rich, fulltext)
        batch, documents, event_pk = [], [], 0
        for issue_id, count, first, last in plan:
            step = (last - first) / max(count - 1, 1)
            row = issue_rows[issue_id - 1]
            small_docs = [fulltext.document_for(s, row["title"], row["culprit"]) for s in smalls]
            rich_doc = fulltext.document_for(rich, row["title"], row["culprit"])
            for seq in range(1, count + 1):
                event_pk += 1
                stamp = first + step * (seq - 1)
                latest = seq == count
                batch.append(
                    {
                        "id": event_pk,
                        "project_id": row["project_id"],
                        "issue_id": issue_id,
                        "grouping_id": issue_id,
                        "event_id": f"{event_pk:032x}",
                        "timestamp": stamp,
                        "received_at": stamp,
                        "issue_sequence": seq,
                        "title": issue_rows[issue_id - 1]["title"],
                        "level": "error",
                        "platform": "python",
                        "release": releases[issue_id % 20],
                        "environment": envs[issue_id % 2],
                        "payload": rich_blob if latest else small_blobs[seq % SMALL_TEXTS],
                        "payload_size": 11_000 if latest else 60,
                        "payload_dict_id": dict_id,
                        "problems": [],
                        "is_pinned": seq == 1,
                    }
                )
                documents.append(
                    (
                        issue_id,
                        row["project_id"],
                        rich_doc if latest else small_docs[seq % SMALL_TEXTS],
                    )
                )
                if len(batch) >= CHUNK:
                    _insert_indexed(cursor, Event, batch, documents, fulltext)
                    batch, documents = [], []
        if batch:
            _insert_indexed(cursor, Event, batch, documents, fulltext)
        volume.backfill(connection)  # the digest's events per issue and day
        stored = dict.fromkeys(project_ids, 0)
        for row in issue_rows:
            stored[row["project_id"]] += row["stored_event_count"]
        for pid in project_ids:
            ProjectSettings.objects.for_project(pid)
            ProjectSettings.objects.filter(project_id=pid).update(
                last_issue_number=numbers[pid], stored_event_count=stored[pid]
            )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The rows went in with their ids: move every sequence past them, or the first
            # event digested into this database fails on a duplicate key.
            from django.apps import apps
            from django.core.management.color import no_style

            for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                cursor.execute(sql)
        cursor.execute("ANALYZE")
    return user.pk, project_ids[0]
