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

The modules: `schema` (the tables of each database, their forms and the migrations between them),
`documents` (the words of an event and the documents kept of them), `search` (reading the
index). What the rest of the app and its migrations use is here.
"""

from bugsink_issues.models.fulltext.documents import (
    assign_documents,
    backfill,
    digest_of,
    document_for,
    index_events,
    move_issue_events,
    search_words,
)
from bugsink_issues.models.fulltext.schema import (
    DOC_TABLE,
    FTS_TABLE,
    PG_FILL_TERMS,
    PG_GIN_INDEX,
    PG_SCOPE_PREFIX,
    SCOPE_PREFIX,
    SUPPORTED_VENDORS,
    TERM_TABLE,
    create_index,
    downgrade_index,
    downgrade_postgres_index,
    drop_index,
    ensure_triggers,
    pg_document_sql,
    pg_scope_sql,
    upgrade_index,
    upgrade_postgres_index,
)
from bugsink_issues.models.fulltext.search import MAX_SCOPED_PROJECTS, issue_filter

__all__ = [
    "DOC_TABLE",
    "FTS_TABLE",
    "MAX_SCOPED_PROJECTS",
    "PG_FILL_TERMS",
    "PG_GIN_INDEX",
    "PG_SCOPE_PREFIX",
    "SCOPE_PREFIX",
    "SUPPORTED_VENDORS",
    "TERM_TABLE",
    "assign_documents",
    "backfill",
    "create_index",
    "digest_of",
    "document_for",
    "downgrade_index",
    "downgrade_postgres_index",
    "drop_index",
    "ensure_triggers",
    "index_events",
    "issue_filter",
    "move_issue_events",
    "pg_document_sql",
    "pg_scope_sql",
    "search_words",
    "upgrade_index",
    "upgrade_postgres_index",
]
