"""The full-text index's tables, as each database keeps them, and the migrations between their
forms: the document table, SQLite's FTS5 table and PostgreSQL's GIN index, the vocabulary, the
delete triggers, each document's scope token."""

from django.db.models.signals import post_migrate
from django.dispatch import receiver

DOC_TABLE = "bugsink_issues_textdoc"
FTS_TABLE = "bugsink_issues_textsearch"  # SQLite
# The vocabulary (SQLite: kept beside the index because FTS5's own (fts5vocab) counts each term's
# postings as it lists it: 71 ms to find `something` at 5,000,000 events, 0.5 ms here;
# PostgreSQL: GIN has no way to list its keys but ts_stat, a scan of every document).
TERM_TABLE = "bugsink_issues_textterm"
EVENT_TABLE = "bugsink_issues_event"
SUPPORTED_VENDORS = ("sqlite", "postgresql")


# A document's scope token: its project's id behind this prefix (`p12`). PostgreSQL keeps it among
# the words, so its prefix is what no word has (a word is letters and digits).
SCOPE_PREFIX = "p"
PG_SCOPE_PREFIX = "_p"


def scope_token(project_id, vendor="sqlite"):
    """The scope token of a project's documents on `vendor`'s index."""
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
