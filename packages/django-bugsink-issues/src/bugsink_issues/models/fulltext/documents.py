"""What the full-text index holds and how it is kept: the words of an event, a document per issue
and distinct text counted by its events, moved with a merge, filled for the events stored before
the index (a migration's backfill)."""

import hashlib
import re

from django.db import connection as default_connection

from bugsink_issues.models.fulltext.schema import (
    DOC_TABLE,
    EVENT_TABLE,
    FTS_TABLE,
    PG_ADD_TERMS,
    SUPPORTED_VENDORS,
    TERM_TABLE,
    pg_document_sql,
    scope_token,
)

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


def digest_of(document):
    return hashlib.blake2b(document.encode(), digest_size=8).hexdigest()


def assign_documents(items, connection=default_connection):
    """[(issue id, project id, document text)] -> [document id or None], in order: each text
    counted into its issue's document for it, made if the issue has none yet, in the caller's
    transaction. A text with no words gets None."""
    keys = [(issue_id, digest_of(text)) if text else None for issue_id, _project, text in items]
    wanted: dict[tuple[int, str], list] = {}  # (issue, digest) -> [text, project, events]
    for key, (_issue_id, project_id, text) in zip(keys, items, strict=True):
        if key is not None:
            wanted.setdefault(key, [text, project_id, 0])[2] += 1
    if not wanted:
        return [None] * len(items)
    ids: dict[tuple[int, str], int] = {}
    issue_ids = sorted({issue_id for issue_id, _ in wanted})
    with connection.cursor() as cursor:
        for start in range(0, len(issue_ids), 500):
            some = issue_ids[start : start + 500]
            marks = ", ".join(["%s"] * len(some))
            cursor.execute(
                f"SELECT id, issue_id, digest FROM {DOC_TABLE} WHERE issue_id IN ({marks})",
                some,
            )
            for doc_id, issue_id, digest in cursor.fetchall():
                if (issue_id, digest) in wanted:
                    ids.setdefault((issue_id, digest), doc_id)  # a merge may leave two: either
        known = [(events, ids[key]) for key, (_t, _p, events) in wanted.items() if key in ids]
        if known:
            cursor.executemany(f"UPDATE {DOC_TABLE} SET events = events + %s WHERE id = %s", known)
        new_words: set[str] = set()
        for key, (text, project_id, events) in wanted.items():
            if key in ids:
                continue
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"INSERT INTO {DOC_TABLE} (issue_id, digest, events, document) "
                    f"VALUES (%s, %s, %s, {pg_document_sql('%s', '%s::bigint')}) RETURNING id",
                    [key[0], key[1], events, text, project_id],
                )
                ids[key] = cursor.fetchone()[0]
                new_words.add(text)
            else:
                cursor.execute(
                    f"INSERT INTO {DOC_TABLE} (issue_id, digest, events) VALUES (%s, %s, %s)",
                    [key[0], key[1], events],
                )
                ids[key] = cursor.lastrowid
                cursor.execute(
                    f"INSERT INTO {FTS_TABLE} (rowid, issue_id, document, scope) "
                    "VALUES (%s, %s, %s, %s)",
                    [ids[key], key[0], text, scope_token(project_id)],
                )
                new_words.update(text.split())
        if new_words and connection.vendor == "postgresql":  # texts, whose lexemes are the words
            cursor.execute(PG_ADD_TERMS, [sorted(new_words)])
        elif new_words:
            cursor.executemany(
                f"INSERT OR IGNORE INTO {TERM_TABLE} (term) VALUES (%s)",
                [(word,) for word in sorted(new_words)],
            )
    return [None if key is None else ids[key] for key in keys]


def index_events(rows, datas, connection=default_connection):
    """Give Event rows, not inserted yet, their documents (`search_doc_id`) from their
    (normalised) payloads, in the caller's transaction; the caller then inserts the rows."""
    if connection.vendor not in SUPPORTED_VENDORS:
        return
    items = [
        (row.issue_id, row.project_id, document_for(data, row.title, row.culprit))
        for row, data in zip(rows, datas, strict=True)
    ]
    for row, doc_id in zip(rows, assign_documents(items, connection), strict=True):
        row.search_doc_id = doc_id


def move_issue_events(source_issue_id, target_issue_id, connection=default_connection):
    """The documents of one issue now belong to another (a merge, which moves all its events), in
    the caller's transaction."""
    if connection.vendor not in SUPPORTED_VENDORS:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"UPDATE {FTS_TABLE} SET issue_id = %s WHERE rowid IN "
                f"(SELECT id FROM {DOC_TABLE} WHERE issue_id = %s)",
                [target_issue_id, source_issue_id],
            )
        cursor.execute(
            f"UPDATE {DOC_TABLE} SET issue_id = %s WHERE issue_id = %s",
            [target_issue_id, source_issue_id],
        )


def backfill(event_model, connection, batch=1000):
    """Index every stored event (the migration's historical Event model), in id order."""
    from bugsink_issues.digest.storage import load_payload

    last = 0
    while True:
        rows = list(
            event_model.objects.using(connection.alias)
            .filter(pk__gt=last)
            .order_by("pk")
            .only("id", "issue_id", "project_id", "title", "culprit", "payload", "payload_dict_id")[
                :batch
            ]
        )
        if not rows:
            return
        items = [
            (row.issue_id, row.project_id, document_for(load_payload(row), row.title, row.culprit))
            for row in rows
        ]
        doc_ids = assign_documents(items, connection)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {EVENT_TABLE} SET search_doc_id = %s WHERE id = %s",
                [(doc_id, row.pk) for row, doc_id in zip(rows, doc_ids, strict=True)],
            )
        last = rows[-1].pk
