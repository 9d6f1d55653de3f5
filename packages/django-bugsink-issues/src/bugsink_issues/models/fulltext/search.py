"""How the full-text index is read: a search's words written out from the vocabulary, the
searched projects' scope, and a narrow or broad filter on issues, as each database reads fastest."""

import json
from typing import NamedTuple

from django.db import connection as default_connection
from django.db.models import BooleanField, F, Func, Q

from bugsink_issues.models.fulltext.documents import search_words
from bugsink_issues.models.fulltext.schema import (
    DOC_TABLE,
    FTS_TABLE,
    SUPPORTED_VENDORS,
    TERM_TABLE,
    scope_token,
)

# A search word starting at most this many indexed words is written out as them: FTS5 reads a
# prefix query by merging the whole posting list of every word it starts before it can skip or
# stop, but walks named words lazily (a common word costs nothing until it is reached).
MAX_EXPANSION = 32
# Up to this many matching documents, the issues are looked up from the index; beyond it the
# search is broad and each issue of the list, in its order, is checked for a matching document
# until the page (and the bounded count) is full.
NARROW_DOCUMENTS = 5000
MAX_SCOPED_PROJECTS = 100


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
    return _sqlite_filter(words, project_ids, connection)


def _sqlite_filter(words, project_ids, connection):
    # A word start: the document's text with a space before it holds the word with one before.
    checks = " AND ".join(["instr(' ' || f.document, %s) > 0"] * len(words))
    broad = Q(_HasMatchingDocument(F("pk"), checks, [" " + word for word in words]))
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
        scopes = " OR ".join(f'"{scope_token(p)}"' for p in sorted(project_ids)) or '"none"'
        groups.insert(0, f"scope : ({scopes})")
    return " AND ".join(groups + wide)


def _lexeme(term):
    """A tsquery operand for one lexeme, as it is (no parser: `_p1` stays one)."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


# PostgreSQL: a search the planner expects to match more documents than this (from the
# statistics ANALYZE keeps of the lexemes; they are within a few times) is broad without the
# lookup: a GIN lookup cannot stop early, and reads every match (`something failed` at 1,000,000
# events, 15,180 documents of the hot project's 1,000 issues: 37 ms, the broad walk 11).
PG_BROAD_ESTIMATE = 2 * NARROW_DOCUMENTS
# PostgreSQL: a word starting more than MAX_EXPANSION lexemes in more documents than this is
# checked on each document the rest of the search found, not looked up in the GIN index, which
# merges the postings of every key a prefix starts into one bitmap before it can skip anything:
# `failed 4` 49 -> 17 ms at 5,000,000 events, `e` 53 -> 9 ms.
PG_PREFIX_ESTIMATE = 100_000
# PostgreSQL: a part of a search (a word's lexemes, the projects' scope) expected in more than this
# many times the documents of its rarest part is checked on each document the rarer parts find,
# not looked up: the GIN index advances a frequent lexeme's postings to each rarer match, decoding
# about a page of them each time, or all of them. At 5,000,000 events: `handler 42` (`handler` in
# 1.4M documents) looked up whole 57 ms, `_p1 & 42:*` looked up and `handler` checked on its
# 3,773 documents 5.5 ms; `error17` (16,194 documents) with the scope `_p1` (72,918, 4.5 times
# more) looked up 10.8 ms, the scope checked 5.8 ms; but `42:*` with `_p1` (2.5 times more)
# looked up 3.4 ms, `_p1` checked on the 49,537 documents of `42:*` 14 ms.
PG_LOOKUP_RATIO = 4


def _estimate(cursor, condition, params):
    """The planner's estimate of the documents matching `condition` (EXPLAIN plans, runs
    nothing)."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {DOC_TABLE} WHERE {condition}", params)
    plan = cursor.fetchone()[0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]


def _tsquery(parts):
    """SQL of one tsquery matching all of `parts` ((operand, whether it is a prefix)) and its
    params: lexemes as they are (no parser: `_p1` stays one), prefixes through to_tsquery, as the
    documents were made."""
    sql, params = [], []
    for prefix, cast in ((False, "%s::tsquery"), (True, "to_tsquery('simple', %s)")):
        operands = [operand for operand, is_prefix in parts if is_prefix == prefix]
        if operands:
            sql.append(cast)
            params.append(" & ".join(operands))
    return "(" + " && ".join(sql) + ")", params


class _PostgresSearch(NamedTuple):
    lookup: str  # SQL of a condition on a document, as the GIN index is read for it
    lookup_params: list[str]
    every: str  # the same condition as one tsquery, for documents read one by one
    every_params: list[str]
    matching: float | None  # the planner's estimate of the documents it matches; None: no lookup


def _postgres_match(words, project_ids, connection):
    """The condition on a document for `words`: each word written out as the lexemes it starts,
    or a prefix; the projects' scope lexemes; for a lookup, the rarest parts looked up in the
    index, the frequent ones (PG_LOOKUP_RATIO) and the wide prefixes (PG_PREFIX_ESTIMATE) checked
    on each document it finds (ts_match_vq, the function behind @@, which no index serves)."""
    parts = []
    for word, terms in _expansions(words, connection):
        if terms is None:
            parts.append((f"{_lexeme(word)}:*", True))
        else:
            parts.append(("(" + " | ".join(_lexeme(t) for t in terms or [word]) + ")", False))
    if _scoped(project_ids):
        scopes = [_lexeme(scope_token(p, "postgresql")) for p in sorted(project_ids)]
        parts.append(("(" + (" | ".join(scopes) or _lexeme("_none")) + ")", False))
    whole, every_params = _tsquery(parts)
    every = f"document @@ {whole}"
    lookup, checked, rarest = [], [], None
    with connection.cursor() as cursor:
        estimated = []
        for part in parts:
            sql, params = _tsquery([part])
            estimated.append((_estimate(cursor, f"document @@ {sql}", params), part))
        for estimate, part in sorted(estimated, key=lambda pair: pair[0]):
            if part[1] and estimate > PG_PREFIX_ESTIMATE:  # a wide prefix
                checked.append(part)
            elif rarest is None:  # the rarest part the index serves: always looked up
                rarest = estimate
                lookup.append(part)
            else:
                (lookup if estimate <= PG_LOOKUP_RATIO * rarest else checked).append(part)
        matching = None
        if lookup:
            matching = _estimate(cursor, every, every_params) if len(parts) > 1 else rarest
    conditions, params = [], []
    for check, chosen in (("document @@ {}", lookup), ("ts_match_vq(document, {})", checked)):
        if chosen:
            sql, chosen_params = _tsquery(chosen)
            conditions.append(check.format(sql))
            params.extend(chosen_params)
    return _PostgresSearch(" AND ".join(conditions), params, every, every_params, matching)


def _postgres_filter(words, project_ids, connection):
    search = _postgres_match(words, project_ids, connection)
    if search.matching is not None and search.matching <= PG_BROAD_ESTIMATE:
        with connection.cursor() as cursor:
            # Issues, not documents, counted: a few issues with many texts each stay narrow.
            cursor.execute(
                f"SELECT DISTINCT issue_id FROM {DOC_TABLE} WHERE {search.lookup} LIMIT %s",
                [*search.lookup_params, NARROW_DOCUMENTS + 1],
            )
            found = cursor.fetchall()
        if len(found) <= NARROW_DOCUMENTS:
            return Q(pk__in=sorted(issue_id for (issue_id,) in found))
    # Each issue's few documents are read one by one: one tsquery checks each (two cost twice).
    return Q(_HasMatchingDocument(F("pk"), search.every, search.every_params))


class _HasMatchingDocument(Func):
    """EXISTS a document of the issue matching `condition` (SQL on its row `d` and, on SQLite, its
    text `f`), for a broad search walked in the list's order: each issue's few documents are
    read by the index on issue_id and checked, and the walk stops when the page (or the bounded
    count) is full."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, issue, condition, params):
        super().__init__(issue)
        self.condition, self.condition_params = condition, tuple(params)

    def as_sql(
        self, compiler, connection, function=None, template=None, arg_joiner=None, **extra_context
    ):
        issue_sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "sqlite":
            source, tail = f"{DOC_TABLE} d CROSS JOIN {FTS_TABLE} f ON f.rowid = d.id", ""
        else:
            # OFFSET 0 keeps it a check per issue: PostgreSQL would otherwise make it a join that
            # first reads every matching document of the project (the count of `something
            # failed` at 5,000,000 events: 42 -> 6 ms).
            source, tail = f"{DOC_TABLE} d", " OFFSET 0"
        sql = (
            f"EXISTS (SELECT 1 FROM {source} "
            f"WHERE d.issue_id = {issue_sql} AND {self.condition}{tail})"
        )
        return sql, [*params, *self.condition_params]
