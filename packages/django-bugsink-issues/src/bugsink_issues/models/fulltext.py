"""The full-text index of stored events: what the free text of an issue search looks in.

A document is the words of one event: its title, culprit, message, transaction, logger and
exception types, values and modules, lower-cased, each once (a word is a run of letters and digits:
`ValueError: cart_id 42` is `valueerror cart id 42`). An issue matches when one of its stored
events does, and a search word matches every word it starts (`conn` finds `ConnectionError`).

Documents are kept once per issue and text, with the number of stored events that have it: most
events of an issue say the same words, so the index grows with the distinct texts, not with the
events. Each event row names its document (`Event.search_doc_id`); a trigger on the event table
counts a deleted event out of its document and drops the document with its last event, whatever
deletes events (retention, an issue's deletion, a project's cascade, a flush), so no code path can
leave a document behind.

- `bugsink_issues_textdoc`: one row per document (its issue, a digest of its text, its events).
- SQLite: an FTS5 table beside it (rowid = the document's id, the issue id unindexed, the project
  as a `scope` token), and the vocabulary: every word a document was made with, so that a search
  word is written out as the indexed words it starts (see `issue_filter`).
- PostgreSQL: the words as a `tsvector` in the same row (the `simple` configuration: no stemming,
  no stop words, since identifiers are what people search) with a GIN index; the project as a
  lexeme of it (`_p<id>`, which no word can be: `_` is no letter), and the vocabulary as on
  SQLite.
- Another database: no index; the free text matches issue titles and culprits with icontains.

The digest assigns the documents in its own transaction (`index_events`, before it inserts the
events). SQLite drops a table's triggers when a migration rebuilds the table; `ensure_triggers`
(run after every `migrate`) puts them back. The migration `0014_text_documents` replaces the
index of one document per event (`0009_ui_workflow`) and indexes the events stored before it;
`0017_text_scope` gives an SQLite index of 0014's form its scope column and vocabulary,
`0019_text_scope_postgres` a PostgreSQL one its scope lexemes and vocabulary.
"""

import hashlib
import json
import re

from django.db import connection as default_connection
from django.db.models import BooleanField, F, Func, Q
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_migrate
from django.dispatch import receiver

__all__ = [
    "DOC_TABLE",
    "FTS_TABLE",
    "SUPPORTED_VENDORS",
    "TERM_TABLE",
    "assign_documents",
    "backfill",
    "create_index",
    "document_for",
    "downgrade_index",
    "drop_index",
    "ensure_triggers",
    "index_events",
    "issue_filter",
    "move_issue_events",
    "search_words",
    "upgrade_index",
    "upgrade_postgres_index",
    "downgrade_postgres_index",
    "pg_document_sql",
    "pg_scope_sql",
    "PG_FILL_TERMS",
    "PG_GIN_INDEX",
]

DOC_TABLE = "bugsink_issues_textdoc"
FTS_TABLE = "bugsink_issues_textsearch"  # SQLite
# The vocabulary (SQLite: kept beside the index because FTS5's own (fts5vocab) counts each term's
# postings as it lists it: 71 ms to find `something` at 5,000,000 events, 0.5 ms here;
# PostgreSQL: GIN has no way to list its keys but ts_stat, a scan of every document).
TERM_TABLE = "bugsink_issues_textterm"
EVENT_TABLE = "bugsink_issues_event"
SUPPORTED_VENDORS = ("sqlite", "postgresql")
MAX_WORDS = 400  # per document: a 16 KB exception value is not read to the end
MAX_WORD = 64
MAX_SEARCH_WORDS = 12
# A search word starting at most this many indexed words is written out as them: FTS5 reads a
# prefix query by merging the whole posting list of every word it starts before it can skip or
# stop, but walks named words lazily (a common word costs nothing until it is reached).
MAX_EXPANSION = 32
# Up to this many matching documents, the issues are looked up from the index; beyond it the
# search is broad and each issue of the list, in its order, is checked for a matching document
# until the page (and the bounded count) is full.
NARROW_DOCUMENTS = 5000
MAX_SCOPED_PROJECTS = 100
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


def _digest(document):
    return hashlib.blake2b(document.encode(), digest_size=8).hexdigest()


# A document's scope token: its project's id behind this prefix (`p12`). PostgreSQL keeps it among
# the words, so its prefix is what no word has (a word is letters and digits).
SCOPE_PREFIX = "p"
PG_SCOPE_PREFIX = "_p"


def _scope(project_id, vendor="sqlite"):
    return f"{PG_SCOPE_PREFIX if vendor == 'postgresql' else SCOPE_PREFIX}{int(project_id)}"


def pg_scope_sql(project_sql):
    """PostgreSQL: SQL of the tsvector of one scope lexeme, for the project id `project_sql`."""
    return f"array_to_tsvector(ARRAY['{PG_SCOPE_PREFIX}' || {project_sql}])"


def pg_document_sql(text_sql, project_sql):
    """PostgreSQL: SQL of a document's tsvector: its text's words and its project's scope."""
    return f"to_tsvector('simple', {text_sql}) || {pg_scope_sql(project_sql)}"


# PostgreSQL: the vocabulary read off the index's documents (a scope lexeme is no word).
PG_FILL_TERMS = (
    f"INSERT INTO {TERM_TABLE} (term) SELECT word FROM ts_stat('SELECT document FROM {DOC_TABLE}') "
    "WHERE left(word, 1) <> '_' ORDER BY word ON CONFLICT DO NOTHING"
)
# PostgreSQL: the vocabulary of the texts given (one param, an array of them), as the index's own
# lexemes, in order (two digests adding the same new words then wait, not deadlock).
PG_ADD_TERMS = (
    f"INSERT INTO {TERM_TABLE} (term) SELECT DISTINCT v.lexeme FROM unnest(%s::text[]) AS t(text), "
    "unnest(to_tsvector('simple', t.text)) AS v ORDER BY 1 ON CONFLICT DO NOTHING"
)


def assign_documents(items, connection=default_connection):
    """[(issue id, project id, document text)] -> [document id or None], in order: each text
    counted into its issue's document for it, made if the issue has none yet, in the caller's
    transaction. A text with no words gets None."""
    keys = [(issue_id, _digest(text)) if text else None for issue_id, _project, text in items]
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
                    [ids[key], key[0], text, _scope(project_id)],
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


def issue_filter(text, project_ids=None, connection=default_connection):
    """A filter (Q) on issues for those with an event matching every word of `text` (each word as
    the start of a word); None when `text` has no words or the database has no index.
    `project_ids`: the projects the issues searched are in, when the caller knows them (only
    their documents are then read).

    Both databases look the matches up in the index first, up to NARROW_DOCUMENTS of them
    (SQLite: documents; PostgreSQL: their distinct issues): so few, the filter is their issues'
    ids (narrow); more, it checks each issue of the list, in its order, for a matching document,
    and the list stops as soon as its page is full (broad)."""
    words = search_words(text)
    if not words or connection.vendor not in SUPPORTED_VENDORS:
        return None
    if connection.vendor == "postgresql":
        return _postgres_filter(words, project_ids, connection)
    broad = Q(_HasMatchingDocument(F("pk"), [" " + word for word in words]))
    match = _match_expression(words, project_ids, connection)
    if match is None:
        return broad
    with connection.cursor() as cursor:
        # The matches' rowids alone (the index, not the documents' rows, where issue_id sits
        # behind the text), their issues from the document table: 7.3 -> 3.1 ms at 5,001 rows.
        cursor.execute(
            f"SELECT d.issue_id FROM (SELECT rowid AS doc FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s LIMIT %s) m CROSS JOIN {DOC_TABLE} d ON d.id = m.doc",
            [match, NARROW_DOCUMENTS + 1],
        )
        found = cursor.fetchall()
    if len(found) <= NARROW_DOCUMENTS:
        return Q(pk__in=sorted({issue_id for (issue_id,) in found}))
    return broad


def _expansions(words, connection):
    """[(word, the indexed words it starts, or None when there are more than MAX_EXPANSION)]:
    from the vocabulary, in order."""
    found = []
    with connection.cursor() as cursor:
        for word in words:
            cursor.execute(
                f"SELECT term FROM {TERM_TABLE} WHERE term >= %s AND term < %s "
                "ORDER BY term LIMIT %s",
                [word, word + "\U0010ffff", MAX_EXPANSION + 1],
            )
            terms = [term for (term,) in cursor.fetchall()]
            found.append((word, terms if len(terms) <= MAX_EXPANSION else None))
    return found


def _scoped(project_ids):
    return project_ids is not None and len(project_ids) <= MAX_SCOPED_PROJECTS


def _match_expression(words, project_ids, connection):
    """The FTS5 query for `words`, or None when each of them starts more than MAX_EXPANSION
    indexed words (`e`, `4`: such a search matches nearly everything; the list is walked).
    A word is written out as the indexed words it starts (OR); a word starting more of them as a
    prefix query (beside a listed word, what it adds is the few documents both match). Within
    the projects' scope tokens when they are known."""
    groups, wide = [], []
    for word, terms in _expansions(words, connection):
        # Words and terms are letters and digits only; quoted, FTS5 takes them as strings.
        if terms is None:
            wide.append(f'document : "{word}"*')
        elif not terms:  # in no document: nothing matches (the query says so at once)
            groups.append(f'document : "{word}"')
        else:
            groups.append("document : (" + " OR ".join(f'"{t}"' for t in terms) + ")")
    if not groups:
        return None
    if _scoped(project_ids):
        scopes = " OR ".join(f'"{_scope(p)}"' for p in sorted(project_ids)) or '"none"'
        groups.insert(0, f"scope : ({scopes})")
    return " AND ".join(groups + wide)


def _lexeme(term):
    """A tsquery operand for one lexeme, as it is (no parser: `_p1` stays one)."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


# PostgreSQL: a search the planner expects to match more documents than this (from the
# statistics ANALYZE keeps of the lexemes; they are within a few times) is broad without the
# lookup, which would find its NARROW_DOCUMENTS + 1 in vain (21 ms for `something failed` at
# 5,000,000 events).
PG_BROAD_ESTIMATE = 4 * NARROW_DOCUMENTS
# PostgreSQL: a word starting more than MAX_EXPANSION lexemes in more documents than this is
# checked on each document the rest of the search found, not looked up in the GIN index, which
# merges the postings of every key a prefix starts into one bitmap before it can skip anything:
# `failed 4` 49 -> 17 ms at 5,000,000 events, `e` 53 -> 9 ms. A narrower prefix is looked up
# (`handler 42`: 12 ms in the index, 37 ms checked document by document).
PG_PREFIX_ESTIMATE = 100_000


def _estimate(cursor, condition, params):
    """The planner's estimate of the documents matching `condition` (EXPLAIN plans, runs
    nothing)."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {DOC_TABLE} WHERE {condition}", params)
    plan = cursor.fetchone()[0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]


def _postgres_match(words, project_ids, connection):
    """(SQL of a condition on a document for `words`, its params, whether the GIN index is read
    for a word), as PostgreSQL reads it fastest: a word written out as the lexemes it starts, the
    projects' scope lexemes, a wider word as a prefix when it is in few enough documents, else
    checked on each document the rest found (ts_match_vq, the function behind @@, which no index
    serves). Prefixes go through to_tsquery, as the documents did."""
    groups: list[str] = []
    prefixes: list[str] = []
    checked: list[str] = []
    with connection.cursor() as cursor:
        for word, terms in _expansions(words, connection):
            if terms is not None:
                groups.append("(" + " | ".join(_lexeme(t) for t in terms or [word]) + ")")
                continue
            prefix = f"{_lexeme(word)}:*"
            estimate = _estimate(cursor, "document @@ to_tsquery('simple', %s)", [prefix])
            (prefixes if estimate <= PG_PREFIX_ESTIMATE else checked).append(prefix)
    indexed = bool(groups or prefixes)
    if _scoped(project_ids):
        scopes = [_lexeme(_scope(p, "postgresql")) for p in sorted(project_ids)]
        groups.insert(0, "(" + (" | ".join(scopes) or _lexeme("_none")) + ")")
    queries, params = [], []
    if groups:
        queries.append("%s::tsquery")
        params.append(" & ".join(groups))
    if prefixes:
        queries.append("to_tsquery('simple', %s)")
        params.append(" & ".join(prefixes))
    sql = ["document @@ (" + " && ".join(queries) + ")"] if queries else []
    if checked:
        sql.append("ts_match_vq(document, to_tsquery('simple', %s))")
        params.append(" & ".join(checked))
    return " AND ".join(sql), params, indexed


def _postgres_filter(words, project_ids, connection):
    condition, params, indexed = _postgres_match(words, project_ids, connection)
    matching = f"SELECT issue_id FROM {DOC_TABLE} WHERE {condition}"
    if indexed:
        with connection.cursor() as cursor:
            if _estimate(cursor, condition, params) <= PG_BROAD_ESTIMATE:
                # Issues, not documents, counted: a few issues with many texts each stay narrow.
                cursor.execute(
                    f"SELECT DISTINCT issue_id FROM {DOC_TABLE} WHERE {condition} LIMIT %s",
                    [*params, NARROW_DOCUMENTS + 1],
                )
                found = cursor.fetchall()
                if len(found) <= NARROW_DOCUMENTS:
                    return Q(pk__in=sorted(issue_id for (issue_id,) in found))
    # Broad: the planner walks the list and checks each issue's few documents (its index).
    return Q(pk__in=RawSQL(matching, params))


class _HasMatchingDocument(Func):
    """SQLite: EXISTS a document of the issue containing every needle (' ' + a search word, so a
    word start). Read per issue, for a broad search walked in the list's order: each issue's few
    documents by the index on issue_id, their text by rowid."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, issue, needles):
        super().__init__(issue)
        self.needles = tuple(needles)

    def as_sql(
        self, compiler, connection, function=None, template=None, arg_joiner=None, **extra_context
    ):
        issue_sql, params = compiler.compile(self.source_expressions[0])
        checks = " AND ".join(["instr(' ' || f.document, %s) > 0"] * len(self.needles))
        sql = (
            f"EXISTS (SELECT 1 FROM {DOC_TABLE} d CROSS JOIN {FTS_TABLE} f ON f.rowid = d.id "
            f"WHERE d.issue_id = {issue_sql} AND {checks})"
        )
        return sql, [*params, *self.needles]


_SQLITE_TRIGGER = (
    f"CREATE TRIGGER IF NOT EXISTS {DOC_TABLE}_event_delete AFTER DELETE ON {EVENT_TABLE} "
    "WHEN OLD.search_doc_id IS NOT NULL BEGIN "
    f"UPDATE {DOC_TABLE} SET events = events - 1 WHERE id = OLD.search_doc_id; "
    f"DELETE FROM {FTS_TABLE} WHERE rowid = OLD.search_doc_id AND NOT EXISTS "
    f"(SELECT 1 FROM {DOC_TABLE} WHERE id = OLD.search_doc_id AND events > 0); "
    f"DELETE FROM {DOC_TABLE} WHERE id = OLD.search_doc_id AND events <= 0; "
    "END"
)
_POSTGRES_TRIGGERS = [
    # One statement-level trigger per DELETE (its transition table holds the deleted rows).
    f"""CREATE OR REPLACE FUNCTION {DOC_TABLE}_event_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
    UPDATE {DOC_TABLE} d SET events = d.events - g.n FROM
        (SELECT search_doc_id AS id, count(*) AS n FROM gone WHERE search_doc_id IS NOT NULL
         GROUP BY search_doc_id) g
        WHERE d.id = g.id;
    DELETE FROM {DOC_TABLE} d USING (SELECT DISTINCT search_doc_id AS id FROM gone) g
        WHERE d.id = g.id AND d.events <= 0;
    RETURN NULL; END $$""",
    f"DROP TRIGGER IF EXISTS {DOC_TABLE}_event_delete ON {EVENT_TABLE}",
    f"""CREATE TRIGGER {DOC_TABLE}_event_delete AFTER DELETE ON {EVENT_TABLE}
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION {DOC_TABLE}_event_delete()""",
    f"""CREATE OR REPLACE FUNCTION {DOC_TABLE}_event_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN TRUNCATE {DOC_TABLE}; RETURN NULL; END $$""",
    f"DROP TRIGGER IF EXISTS {DOC_TABLE}_event_truncate ON {EVENT_TABLE}",
    f"""CREATE TRIGGER {DOC_TABLE}_event_truncate AFTER TRUNCATE ON {EVENT_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {DOC_TABLE}_event_truncate()""",
]


_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE {table} USING fts5(document, issue_id UNINDEXED, scope, "
    "tokenize = 'unicode61 remove_diacritics 0')"
)
# The form 0014 made (no scope, no vocabulary): 0017's backwards goes back to it.
_SQLITE_FTS_0014 = (
    "CREATE VIRTUAL TABLE {table} USING fts5(document, issue_id UNINDEXED, "
    "tokenize = 'unicode61 remove_diacritics 0')"
)
_SQLITE_TERMS = f"CREATE TABLE IF NOT EXISTS {TERM_TABLE} (term text PRIMARY KEY) WITHOUT ROWID"
# Ordered by code point whatever the database's collation: a word's range is [word, word + max).
_POSTGRES_TERMS = f'CREATE TABLE {TERM_TABLE} (term text COLLATE "C" PRIMARY KEY)'
PG_GIN_INDEX = f"CREATE INDEX {DOC_TABLE}_document ON {DOC_TABLE} USING GIN (document)"


def create_index(schema_editor):
    """The document table, the FTS5 table (SQLite) or GIN index (PostgreSQL) and the triggers."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TABLE {DOC_TABLE} (id integer PRIMARY KEY, issue_id bigint NOT NULL, "
            "digest varchar(16) NOT NULL, events integer NOT NULL)"
        )
        schema_editor.execute(_SQLITE_FTS.format(table=FTS_TABLE))
        schema_editor.execute(_SQLITE_TERMS)
        schema_editor.execute(_SQLITE_TRIGGER)
    elif vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TABLE {DOC_TABLE} (id bigserial PRIMARY KEY, issue_id bigint NOT NULL, "
            "digest varchar(16) NOT NULL, events integer NOT NULL, document tsvector NOT NULL)"
        )
        schema_editor.execute(PG_GIN_INDEX)
        schema_editor.execute(_POSTGRES_TERMS)
        for statement in _POSTGRES_TRIGGERS:
            schema_editor.execute(statement)
    if vendor in SUPPORTED_VENDORS:
        schema_editor.execute(f"CREATE INDEX {DOC_TABLE}_issue ON {DOC_TABLE} (issue_id, digest)")


def drop_index(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {DOC_TABLE}_event_delete")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {TERM_TABLE}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {DOC_TABLE}")
    elif vendor == "postgresql":
        for name in ("delete", "truncate"):
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {DOC_TABLE}_event_{name} ON {EVENT_TABLE}"
            )
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {DOC_TABLE}_event_{name}()")
        schema_editor.execute(f"DROP TABLE IF EXISTS {TERM_TABLE}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {DOC_TABLE}")


def _has_scope(connection):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name FROM pragma_table_info('{FTS_TABLE}')")
        return "scope" in {name for (name,) in cursor.fetchall()}


def _rewrite_fts(schema_editor, create, insert):
    """The FTS5 table replaced by one made with `create` (a template of `table`) and filled by
    `insert` (of `table`, reading the old one); the delete trigger, which names it, around it."""
    new = f"{FTS_TABLE}_new"
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {DOC_TABLE}_event_delete")
    schema_editor.execute(create.format(table=new))
    schema_editor.execute(insert.format(table=new))
    schema_editor.execute(f"DROP TABLE {FTS_TABLE}")
    schema_editor.execute(f"ALTER TABLE {new} RENAME TO {FTS_TABLE}")
    schema_editor.execute(_SQLITE_TRIGGER)


def upgrade_index(schema_editor):
    """SQLite: an index of 0014's form (no scope column, no vocabulary) rewritten into this one:
    its documents copied into a new FTS5 table with their projects' scope tokens (re-tokenised,
    never re-read from the events), the vocabulary read off the index. A no-op on an index made
    in this form and on other databases."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite" or _has_scope(connection):
        return
    _rewrite_fts(
        schema_editor,
        _SQLITE_FTS,
        "INSERT INTO {table} (rowid, document, issue_id, scope) "
        f"SELECT f.rowid, f.document, f.issue_id, '{SCOPE_PREFIX}' || i.project_id "
        f"FROM {FTS_TABLE} f "
        "JOIN bugsink_issues_issue i ON i.id = f.issue_id ORDER BY f.rowid",
    )
    schema_editor.execute(_SQLITE_TERMS)
    vocabulary = f"{TERM_TABLE}_vocab"
    schema_editor.execute(
        f"CREATE VIRTUAL TABLE temp.{vocabulary} USING fts5vocab(main, {FTS_TABLE}, 'col')"
    )
    schema_editor.execute(
        f"INSERT OR IGNORE INTO {TERM_TABLE} (term) "
        f"SELECT term FROM temp.{vocabulary} WHERE col = 'document'"
    )
    schema_editor.execute(f"DROP TABLE temp.{vocabulary}")


def downgrade_index(schema_editor):
    """SQLite: back to 0014's form (what the release before 0017 reads), the inverse of
    upgrade_index; a no-op on an index of that form and on other databases."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite" or not _has_scope(connection):
        return
    _rewrite_fts(
        schema_editor,
        _SQLITE_FTS_0014,
        "INSERT INTO {table} (rowid, document, issue_id) "
        f"SELECT rowid, document, issue_id FROM {FTS_TABLE} ORDER BY rowid",
    )
    schema_editor.execute(f"DROP TABLE IF EXISTS {TERM_TABLE}")


def _has_terms(connection):
    with connection.cursor() as cursor:
        return TERM_TABLE in connection.introspection.table_names(cursor)


def _rewrite_documents(schema_editor, update):
    """PostgreSQL: every document's tsvector rewritten by `update` with the GIN index dropped
    and built again after (one sorted build instead of a million insertions into it)."""
    schema_editor.execute(f"DROP INDEX IF EXISTS {DOC_TABLE}_document")
    schema_editor.execute(update)
    schema_editor.execute(PG_GIN_INDEX)


def upgrade_postgres_index(schema_editor):
    """PostgreSQL: an index of 0014's form (no scope, no vocabulary) given each document's
    project as its scope lexeme and the vocabulary read off the documents (no event is read).
    A no-op on an index made in this form and on other databases."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or _has_terms(connection):
        return
    schema_editor.execute(_POSTGRES_TERMS)
    schema_editor.execute(PG_FILL_TERMS)
    _rewrite_documents(
        schema_editor,
        f"UPDATE {DOC_TABLE} d SET document = d.document || {pg_scope_sql('i.project_id')} "
        "FROM bugsink_issues_issue i WHERE i.id = d.issue_id",
    )


def downgrade_postgres_index(schema_editor):
    """PostgreSQL: back to 0014's form, the inverse of upgrade_postgres_index; a no-op on an
    index of that form and on other databases."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or not _has_terms(connection):
        return
    _rewrite_documents(
        schema_editor,
        f"UPDATE {DOC_TABLE} SET document = ts_delete(document, ARRAY("
        "SELECT lexeme FROM unnest(document) WHERE left(lexeme, 1) = '_'))",
    )
    schema_editor.execute(f"DROP TABLE {TERM_TABLE}")


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


def ensure_triggers(connection):
    """Put the SQLite delete trigger back if a migration rebuilt the event table without it."""
    if connection.vendor != "sqlite":
        return  # PostgreSQL keeps triggers through ALTER TABLE
    with connection.cursor() as cursor:
        tables = {t.name for t in connection.introspection.get_table_list(cursor)}
        if DOC_TABLE in tables and EVENT_TABLE in tables:
            cursor.execute(_SQLITE_TRIGGER)


@receiver(post_migrate, dispatch_uid="bugsink_issues_fulltext_triggers")
def _ensure_triggers_after_migrate(sender, app_config=None, using="default", **kwargs):
    if app_config is not None and app_config.label == "bugsink_issues":
        from django.db import connections

        ensure_triggers(connections[using])
