"""The full-text index of stored events: what the free text of an issue search looks in.

One document per stored event: the words of its title, culprit, message, transaction, logger and
exception types, values and modules, lower-cased, each once (a word is a run of letters and digits:
`ValueError: cart_id 42` is `valueerror cart id 42`). An issue matches when one of its stored
events does, and a search word matches every word it starts (`conn` finds `ConnectionError`).

- SQLite: an FTS5 table (rowid = the event's id, the issue id unindexed beside the document).
- PostgreSQL: a table of `tsvector`s (the `simple` configuration: no stemming, no stop words,
  since identifiers are what people search) with a GIN index.
- Another database: no index; the free text matches issue titles and culprits with icontains.

The digest writes the documents in its own transaction (`index_events`). Triggers on the event
table delete an event's document with it, whatever deletes it (retention, an issue's deletion, a
project's cascade, a flush), so no code path can leave a document behind. SQLite drops a table's
triggers when a migration rebuilds the table; `ensure_triggers` (run after every `migrate`)
puts them back. The migration `..._ui_workflow` creates the structures and indexes the events
stored before it.
"""

import re

from django.db import connection as default_connection
from django.db.models.signals import post_migrate
from django.dispatch import receiver

__all__ = [
    "SUPPORTED_VENDORS",
    "TABLE",
    "backfill",
    "create_index",
    "document_for",
    "drop_index",
    "ensure_triggers",
    "index_events",
    "issue_ids_matching",
    "move_issue_events",
    "search_words",
]

TABLE = "bugsink_issues_eventsearch"
EVENT_TABLE = "bugsink_issues_event"
SUPPORTED_VENDORS = ("sqlite", "postgresql")
MAX_WORDS = 400  # per document: a 16 KB exception value is not read to the end
MAX_WORD = 64
MAX_SEARCH_WORDS = 12
_WORD = re.compile(r"[^\W_]+")


def _words(texts, limit):
    seen: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for match in _WORD.finditer(str(text).lower()):
            seen.setdefault(match.group()[:MAX_WORD], None)
            if len(seen) >= limit:
                return list(seen)
    return list(seen)


def search_words(text):
    """The words of a search text, as the index has them."""
    return _words([text], MAX_SEARCH_WORDS)


def _message(data):
    logentry = data.get("logentry")
    if isinstance(logentry, dict):
        return logentry.get("formatted") or logentry.get("message")
    message = data.get("message")
    if isinstance(message, dict):
        return message.get("formatted") or message.get("message")
    return message if isinstance(message, str) else None


def document_for(data, title="", culprit=""):
    """The indexed text of one (normalised) event payload."""
    texts = [title, culprit, _message(data), data.get("transaction"), data.get("logger")]
    exception = data.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    for value in values if isinstance(values, list) else ():
        if isinstance(value, dict):
            texts += [value.get("type"), value.get("value"), value.get("module")]
    return " ".join(_words([t for t in texts if isinstance(t, str)], MAX_WORDS))


def index_events(rows, datas, connection=default_connection):
    """Index stored Event rows (saved, with their pks) and their payloads, in the caller's
    transaction."""
    if connection.vendor not in SUPPORTED_VENDORS:
        return
    values = [
        (row.pk, row.issue_id, document_for(data, row.title, row.culprit))
        for row, data in zip(rows, datas, strict=True)
    ]
    if not values:
        return
    if connection.vendor == "sqlite":
        sql = f"INSERT INTO {TABLE} (rowid, issue_id, document) VALUES (%s, %s, %s)"
    else:
        sql = (
            f"INSERT INTO {TABLE} (event_id, issue_id, document) "
            "VALUES (%s, %s, to_tsvector('simple', %s)) ON CONFLICT (event_id) DO NOTHING"
        )
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def move_issue_events(source_issue_id, target_issue_id, connection=default_connection):
    """The documents of one issue's events now belong to another (a merge); call it before the
    events themselves move, in the same transaction (the event table's index finds the rows)."""
    if connection.vendor not in SUPPORTED_VENDORS:
        return
    key = "rowid" if connection.vendor == "sqlite" else "event_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET issue_id = %s WHERE {key} IN "
            f"(SELECT id FROM {EVENT_TABLE} WHERE issue_id = %s)",
            [target_issue_id, source_issue_id],
        )


def issue_ids_matching(text, connection=default_connection):
    """(sql, params) selecting the ids of issues with an event matching every word of `text` (as a
    prefix); None when `text` has no words or the database has no index."""
    words = search_words(text)
    if not words or connection.vendor not in SUPPORTED_VENDORS:
        return None
    if connection.vendor == "sqlite":
        # Words are letters and digits only; quoted, FTS5 takes them as plain strings.
        match = " ".join(f'"{word}"*' for word in words)
        return f"SELECT issue_id FROM {TABLE} WHERE {TABLE} MATCH %s", [match]
    query = " & ".join(f"'{word}':*" for word in words)
    return (
        f"SELECT issue_id FROM {TABLE} WHERE document @@ to_tsquery('simple', %s)",
        [query],
    )


_SQLITE_TRIGGER = (
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON {EVENT_TABLE} "
    f"BEGIN DELETE FROM {TABLE} WHERE rowid = OLD.id; END"
)
_POSTGRES_TRIGGERS = [
    # One statement-level trigger per DELETE (its transition table holds the deleted rows).
    f"""CREATE OR REPLACE FUNCTION {TABLE}_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN DELETE FROM {TABLE} s USING gone WHERE s.event_id = gone.id; RETURN NULL; END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete ON {EVENT_TABLE}",
    f"""CREATE TRIGGER {TABLE}_delete AFTER DELETE ON {EVENT_TABLE}
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_delete()""",
    f"""CREATE OR REPLACE FUNCTION {TABLE}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN TRUNCATE {TABLE}; RETURN NULL; END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_truncate ON {EVENT_TABLE}",
    f"""CREATE TRIGGER {TABLE}_truncate AFTER TRUNCATE ON {EVENT_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_truncate()""",
]


def create_index(schema_editor):
    """The table (or FTS5 table), its index and the delete triggers (the ui_workflow migration)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
            "document, issue_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 0')"
        )
        schema_editor.execute(_SQLITE_TRIGGER)
    elif vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TABLE {TABLE} (event_id bigint PRIMARY KEY, issue_id bigint NOT NULL, "
            "document tsvector NOT NULL)"
        )
        schema_editor.execute(f"CREATE INDEX {TABLE}_document ON {TABLE} USING GIN (document)")
        for statement in _POSTGRES_TRIGGERS:
            schema_editor.execute(statement)


def drop_index(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_delete")
        schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_delete ON {EVENT_TABLE}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_truncate ON {EVENT_TABLE}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_delete()")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_truncate()")
        schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def backfill(event_model, connection, batch=1000):
    """Index every stored event (the migration's historical Event model), in id order."""
    from bugsink_issues.digest.storage import load_payload

    last = 0
    while True:
        rows = list(
            event_model.objects.using(connection.alias)
            .filter(pk__gt=last)
            .order_by("pk")
            .only("id", "issue_id", "title", "culprit", "payload", "payload_dict_id")[:batch]
        )
        if not rows:
            return
        index_events(rows, [load_payload(row) for row in rows], connection)
        last = rows[-1].pk


def ensure_triggers(connection):
    """Put the SQLite delete trigger back if a migration rebuilt the event table without it."""
    if connection.vendor != "sqlite":
        return  # PostgreSQL keeps triggers through ALTER TABLE
    with connection.cursor() as cursor:
        tables = {t.name for t in connection.introspection.get_table_list(cursor)}
        if TABLE in tables and EVENT_TABLE in tables:
            cursor.execute(_SQLITE_TRIGGER)


@receiver(post_migrate, dispatch_uid="bugsink_issues_fulltext_triggers")
def _ensure_triggers_after_migrate(sender, app_config=None, using="default", **kwargs):
    if app_config is not None and app_config.label == "bugsink_issues":
        from django.db import connections

        ensure_triggers(connections[using])
