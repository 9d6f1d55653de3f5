"""The issue search: the placeholder's own examples, every tag of the Tags tab, visible errors for
terms that mean nothing, and free text through the database's full-text index (kept by the digest,
emptied by retention and deletions, backfilled by the migration)."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bugsink_ingest.models import Project
from bugsink_issues import lifecycle
from bugsink_issues.models import (
    Event,
    Issue,
    IssueTagValue,
    ProjectSettings,
    ProjectTeam,
    fulltext,
)
from bugsink_issues.models.fulltext import DOC_TABLE, FTS_TABLE, document_for, search_words
from bugsink_issues.models.fulltext import search as text_search
from bugsink_issues.ui import search as issue_search
from tests.factories import make_project, make_team, make_user, python_exception, spooled
from tests.issues.sdk_events import sdk_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db, digest):
    alice = make_user("alice")
    project = make_project("Shop", team=make_team("Shop team", admins=[alice]))
    payloads = sdk_events("search")  # a ConnectionRefusedError and a message, from sentry-sdk
    digest([spooled(project, payload) for payload in payloads])
    digest(
        [
            spooled(
                project,
                python_exception(
                    "KeyError", "'sku'", release="frontend@1.20.0", environment="staging"
                ),
            )
        ]
    )
    return {"alice": alice, "project": project}


def titles(client, project, q, **params):
    url = reverse("bugsink_issues:project_issues", args=[project.pk])
    response = client.get(url, {"q": q, "status": "all", **params})
    assert response.status_code == 200
    return sorted(issue.title for issue, _spark in response.context["rows"]), response


@pytest.mark.parametrize("listed", [True, False], ids=["ids-listed", "as-a-subquery"])
def test_a_tag_term_finds_the_same_issues_with_its_values_listed_or_not(
    client, shop, monkeypatch, listed
):
    # With the cap at 0 every term's TagValues go in as a subquery: the same issues either way.
    client.force_login(shop["alice"])
    project = shop["project"]
    if not listed:
        monkeypatch.setattr(issue_search, "MAX_LISTED_TAG_VALUES", 0)
    found, _ = titles(client, project, "release:1.2")
    assert len(found) == 2
    assert titles(client, project, "environment:stag")[0] == ["KeyError: 'sku'"]
    with CaptureQueriesContext(connection) as queries:
        titles(client, project, "release:1.20")
    issue_queries = [q["sql"] for q in queries if "bugsink_issues_issuetagvalue" in q["sql"]]
    assert issue_queries
    subquery = all("bugsink_issues_tagvalue" in sql for sql in issue_queries)
    assert subquery is not listed


def test_the_placeholders_examples_work(client, shop):
    client.force_login(shop["alice"])
    project = shop["project"]
    placeholder = issue_search.PLACEHOLDER
    examples = re.findall(r"\b\w+:\S+", placeholder)
    assert examples == ["release:1.2", "environment:prod", "level:error", "is:muted"]
    found, _ = titles(client, project, "release:1.2")
    assert found == [
        "ConnectionRefusedError: payment gateway gw-eu-3 refused the connection",
        "nightly reconciliation drifted by 17 cents",
    ]  # myshop@1.2.0; not frontend@1.20.0
    for q in ("release:myshop", "release:myshop@1.2", "release:1.2.0", "release:myshop@1.2.0"):
        assert titles(client, project, q)[0] == found, q
    assert titles(client, project, "release:1.20")[0] == ["KeyError: 'sku'"]
    assert titles(client, project, "environment:prod")[0] == found  # production
    assert titles(client, project, "environment:stag")[0] == ["KeyError: 'sku'"]
    assert len(titles(client, project, "level:error")[0]) == 2
    assert titles(client, project, "level:info")[0] == [
        "nightly reconciliation drifted by 17 cents"
    ]
    assert titles(client, project, "is:muted")[0] == []
    lifecycle.mute(Issue.objects.get(title__startswith="KeyError"))
    assert titles(client, project, "is:muted")[0] == ["KeyError: 'sku'"]
    for example in examples:  # none of them is an error
        assert not titles(client, project, example)[1].context["search_errors"], example


def test_every_tag_of_the_tags_tab_is_searchable(client, shop):
    client.force_login(shop["alice"])
    project = shop["project"]
    issue = Issue.objects.get(title__startswith="ConnectionRefusedError")
    tab = client.get(reverse("bugsink_issues:issue", args=[issue.pk]), {"tab": "tags"})
    links = re.findall(r'href="[^"]*\?status=all&amp;q=([^"]+)"', tab.content.decode())
    keys = set(IssueTagValue.objects.filter(issue=issue).values_list("key", flat=True))
    # The SDK's own tags (one with a slash and a dot, one with a space) and the derived ones.
    assert {"k8s.pod/name", "customer tier", "region", "release", "environment", "user"} <= keys
    assert len(links) == IssueTagValue.objects.filter(issue=issue).count()
    from urllib.parse import unquote_plus

    for link in links:
        q = unquote_plus(link.replace("&amp;", "&"))
        found, response = titles(client, project, q)
        assert not response.context["search_errors"], q
        assert issue.title in found, q
    assert titles(client, project, 'region:eu-west-1 "customer tier":"gold plus"')[0] == sorted(
        i.title for i in Issue.objects.filter(project=project).exclude(title__startswith="KeyError")
    )
    assert titles(client, project, "region:eu-west-2")[0] == []


@pytest.mark.parametrize(
    ("q", "message"),
    [
        (
            "is:regressed",
            "Unknown search term is:regressed: is: takes open, resolved, muted or all.",
        ),
        ("level:loud", "Unknown search term level:loud: level: takes debug, info, warning"),
        ("colour:blue", "Unknown search term colour:blue: No event here has a tag 'colour'"),
        ("gateway is:fixed release:1.2", "Unknown search term is:fixed"),
    ],
)
def test_a_term_that_means_nothing_is_a_visible_error(client, shop, q, message):
    client.force_login(shop["alice"])
    found, response = titles(client, shop["project"], q)
    assert found == []  # never silently ignored: nothing is searched
    body = response.content.decode()
    assert 'role="alert"' in body and message in body.replace("&#x27;", "'")
    assert "Nothing searched: correct the search above." in body


def test_free_text_uses_the_full_text_index(client, shop, digest):
    client.force_login(shop["alice"])
    project = shop["project"]
    refused = "ConnectionRefusedError: payment gateway gw-eu-3 refused the connection"
    # Exception values, messages and culprits of events, by word prefixes, in any case and order.
    assert titles(client, project, "GATEWAY gw-eu")[0] == [refused]
    assert titles(client, project, "conn refus")[0] == [refused]
    assert titles(client, project, "reconciliation cents")[0] == [
        "nightly reconciliation drifted by 17 cents"
    ]
    assert titles(client, project, "gateway cents")[0] == []  # every word must match one event
    # An older event's text finds its issue, whose title shows the latest event.
    digest([spooled(project, {**python_exception("X", "older text"), "fingerprint": ["f"]})])
    digest([spooled(project, {**python_exception("X", "a zebra here"), "fingerprint": ["f"]})])
    assert titles(client, project, "older")[0] == ["X: a zebra here"]
    with CaptureQueriesContext(connection) as queries:
        titles(client, project, "gateway")
    table = FTS_TABLE if connection.vendor == "sqlite" else DOC_TABLE
    sql = " ".join(q["sql"] for q in queries.captured_queries if table in q["sql"])
    assert (" MATCH " in sql) if connection.vendor == "sqlite" else ("@@" in sql)
    issue_queries = [
        q["sql"] for q in queries.captured_queries if "bugsink_issues_issue" in q["sql"]
    ]
    assert all("LIKE" not in q.upper() for q in issue_queries)  # no icontains on title/culprit


def test_the_digest_indexes_every_event_in_its_transaction(project, digest, monkeypatch):
    from bugsink_issues.digest import consumer

    digest([spooled(project, python_exception("E1", "alpha")) for _ in range(3)])
    assert Event.objects.count() == 3
    assert _documents() == {("E1: alpha", 3)}  # one document for the three events' one text

    def fail(*args, **kwargs):
        raise RuntimeError("after the index was written")

    monkeypatch.setattr(consumer, "_save_issues", fail)
    with pytest.raises(RuntimeError):
        digest([spooled(project, python_exception("E2", "beta"))])
    assert _documents() == {("E1: alpha", 3)}  # rolled back together
    assert Event.objects.count() == 3


def test_an_issue_keeps_one_document_per_distinct_text_counted_by_events(project, digest):
    fp = {"fingerprint": ["one issue"]}
    digest([spooled(project, {**python_exception("E", f"cart {i % 2}"), **fp}) for i in range(5)])
    assert _documents() == {("E: cart 1", 2), ("E: cart 0", 3)}
    assert Event.objects.filter(search_doc_id__isnull=True).count() == 0
    # An event deleted alone is counted out; the last one of a text takes its document along.
    Event.objects.filter(pk=Event.objects.order_by("pk").values("pk")[:1]).delete()
    assert _documents() == {("E: cart 1", 2), ("E: cart 0", 2)}
    Event.objects.filter(title="E: cart 1").delete()
    assert _documents() == {("E: cart 0", 2)}
    digest([spooled(project, {**python_exception("E", "cart 1"), **fp})])  # it comes back
    assert _documents() == {("E: cart 1", 1), ("E: cart 0", 2)}


def test_a_merge_moves_the_documents_with_the_events(project, digest):
    digest([spooled(project, python_exception("Left", "same words")) for _ in range(2)])
    digest([spooled(project, python_exception("Right", "other words"))])
    left, right = (
        Issue.objects.get(title__startswith="Left"),
        Issue.objects.get(title__startswith="Right"),
    )
    lifecycle.merge([left, right], into=right)
    found = issue_search.text_filter(Issue.objects.all(), "same words")
    assert [i.pk for i in found] == [right.pk]
    assert [i.pk for i in issue_search.text_filter(Issue.objects.all(), "other")] == [right.pk]
    Event.objects.filter(issue=right).delete()
    assert _documents() == set()  # the moved documents were counted out with the events


def test_retention_and_deletions_remove_documents(project, digest):
    ProjectSettings.objects.for_project(project.pk)
    ProjectSettings.objects.filter(project=project).update(retention_max_events=3)
    digest([spooled(project, python_exception("E1", f"value{i}")) for i in range(6)])
    assert Event.objects.count() == 3 and len(_documents()) == 3  # evicted events left it
    other = make_project("Other")
    digest([spooled(other, python_exception("E2", "other"))])
    lifecycle.delete(Issue.objects.get(project=project))
    assert _documents() == {("E2: other", 1)} and Event.objects.count() == 1
    Project.objects.filter(pk=other.pk).delete()  # the ORM's cascade through issues to events
    assert _documents() == set()


def test_documents_hold_the_searched_words_once():
    data = {
        "logentry": {"formatted": "Payment of 17 cents failed"},
        "transaction": "/api/pay",
        "exception": {
            "values": [{"type": "ConnectionError", "value": "cart_id 42", "module": "app.pay"}]
        },
    }
    assert document_for(data, "Payment of 17 cents failed", "app.pay in pay").split() == [
        "payment", "of", "17", "cents", "failed", "app", "pay", "in", "api", "connectionerror",
        "cart", "id", "42",
    ]  # fmt: skip
    assert search_words('  "Cart_ID"  42! ') == ["cart", "id", "42"]
    assert search_words("()!?") == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_and_the_trigger_survives_a_table_rebuild(project, digest):
    digest([spooled(project, python_exception("BackfillError", "found after the migration"))])
    call_command("migrate", "bugsink_issues", "0005", verbosity=0)
    assert DOC_TABLE not in connection.introspection.table_names()
    call_command("migrate", "bugsink_issues", verbosity=0)
    assert _documents() == {("BackfillError: found after the migration", 1)}
    words = issue_search.text_filter(Issue.objects.all(), "backfill after")
    assert [i.title for i in words] == ["BackfillError: found after the migration"]
    if connection.vendor == "sqlite":
        # A migration that rebuilds the event table drops its triggers; migrate puts them back.
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {DOC_TABLE}_event_delete")
        call_command("migrate", verbosity=0)
        Event.objects.all().delete()
        assert _documents() == set()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {FTS_TABLE}")
            assert cursor.fetchone()[0] == 0


@pytest.fixture
def two_projects(digest):
    """Issues in two projects whose texts share words and word starts."""
    first, second = make_project("First"), make_project("Second")
    texts = {
        first: ["cart 17 failed", "cart 170 failed", "carton 9 lost", "payment 17 refused"],
        second: ["cart 17 failed", "order 17 lost", "payment 4 refused"],
    }
    for project, values in texts.items():
        for n, value in enumerate(values):
            event = {**python_exception(f"E{n}", value), "fingerprint": [value]}
            digest([spooled(project, event)])
            digest([spooled(project, {**event, "message": f"older {n} text"})])
    return first, second


SEARCHES = ["cart", "car 17", "17", "1", "failed cart", "refused 4", "older 2", "lost", "zebra"]


def _found(project, q):
    qs, _parsed = issue_search.filter_issues(
        project.issues.all(),
        projects=Project.objects.filter(pk=project.pk),
        query=q,
        status="all",
    )
    return sorted(i.title for i in qs)


def _searches_by_path(monkeypatch, projects):
    """{(project, search): titles} and the SQL each way of searching ran."""
    with CaptureQueriesContext(connection) as queries:
        found = {(p.name, q): _found(p, q) for p in projects for q in SEARCHES}
    return found, " ".join(q["sql"] for q in queries.captured_queries)


SQLITE = connection.vendor == "sqlite"
# Each way of reading the index, by what its SQL says: the issues looked up from the index
# (narrow), each issue of the list checked (broad), within the projects' scope.
if SQLITE:
    NARROW, BROAD, SCOPED = "MATCH", "instr(", "scope : "
else:
    NARROW, BROAD, SCOPED = (
        "SELECT DISTINCT issue_id",
        f"EXISTS (SELECT 1 FROM {DOC_TABLE} d WHERE",
        f"'{fulltext.PG_SCOPE_PREFIX}",
    )


def test_every_way_of_reading_the_index_finds_the_same_issues(two_projects, monkeypatch):
    projects = list(two_projects)
    # The issues are looked up from the index (narrow), words written out as the words they start.
    listed, sql = _searches_by_path(monkeypatch, projects)
    assert NARROW in sql and SCOPED in sql and BROAD not in sql
    assert listed[("First", "car 17")] == ["E0: cart 17 failed", "E1: cart 170 failed"]
    assert listed[("First", "17")] == [
        "E0: cart 17 failed", "E1: cart 170 failed", "E3: payment 17 refused",
    ]  # fmt: skip
    assert listed[("Second", "refused 4")] == ["E2: payment 4 refused"]
    assert listed[("First", "older 2")] == ["E2: carton 9 lost"]  # an older event's text
    assert listed[("First", "zebra")] == []
    # Every search word a prefix (no word is written out): SQLite walks the list, PostgreSQL
    # looks the prefixes up in the index.
    monkeypatch.setattr(text_search, "MAX_EXPANSION", 0)
    prefixed, sql = _searches_by_path(monkeypatch, projects)
    assert (BROAD if SQLITE else "':*") in sql and prefixed == listed
    if not SQLITE:
        # ... and each prefix checked on the documents the project's scope finds.
        with monkeypatch.context() as m:
            m.setattr(text_search, "PG_PREFIX_ESTIMATE", -1)
            checked, sql = _searches_by_path(monkeypatch, projects)
        assert "ts_match_vq(" in sql and checked == listed
        # Broad by the planner's estimate, without the lookup.
        with monkeypatch.context() as m:
            m.setattr(text_search, "PG_BROAD_ESTIMATE", -1)
            estimated, sql = _searches_by_path(monkeypatch, projects)
        assert NARROW not in sql and BROAD in sql and estimated == listed
    # Broad: each issue of the list checked for a document with the words.
    monkeypatch.setattr(text_search, "MAX_EXPANSION", 32)
    if not SQLITE:
        # PostgreSQL: every part of a search but the rarest (the other words, the scope) checked
        # on the documents the rarest finds.
        with monkeypatch.context() as m:
            m.setattr(text_search, "PG_LOOKUP_RATIO", 0)
            rarest, sql = _searches_by_path(monkeypatch, projects)
        assert "ts_match_vq(" in sql and NARROW in sql and rarest == listed
    monkeypatch.setattr(text_search, "NARROW_DOCUMENTS", 0)
    walked, sql = _searches_by_path(monkeypatch, projects)
    assert BROAD in sql
    assert walked == listed


def _project_documents(words, project_ids):
    """The issues of the documents of `project_ids` that match `words`, read from the index."""
    with connection.cursor() as cursor:
        if SQLITE:
            match = text_search._match_expression(words, project_ids, connection)
            cursor.execute(
                f"SELECT DISTINCT issue_id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match]
            )
        else:
            search = text_search._postgres_match(words, project_ids, connection)
            found = set()
            for condition, params in (
                (search.lookup, search.lookup_params),
                (search.every, search.every_params),
            ):
                cursor.execute(
                    f"SELECT DISTINCT issue_id FROM {DOC_TABLE} WHERE {condition}", params
                )
                found.add(frozenset(issue_id for (issue_id,) in cursor.fetchall()))
            assert len(found) == 1  # read either way, the same documents
            return set(found.pop())
        return {issue_id for (issue_id,) in cursor.fetchall()}


def test_a_search_reads_only_the_documents_of_its_projects(two_projects):
    first, second = two_projects
    assert _project_documents(["order"], [first.pk]) == set()  # only in the second project's
    assert _project_documents(["order"], [first.pk, second.pk]) == set(
        second.issues.filter(title__contains="order").values_list("pk", flat=True)
    )
    assert _project_documents(["cart"], [first.pk]) == set(
        first.issues.filter(title__contains="cart").values_list("pk", flat=True)
    )
    # A scope token is no search word: "p1" finds no issue by its project's token.
    assert _found(first, f"p{first.pk}") == []
    assert _found(first, f"_p{first.pk}") == []


def _index_form():
    """What the index has besides the words: SQLite's FTS5 columns, PostgreSQL's scope lexemes;
    the vocabulary's words starting `car`, None without a vocabulary; the delete trigger."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        terms = None
        if fulltext.TERM_TABLE in tables:
            cursor.execute(f"SELECT term FROM {fulltext.TERM_TABLE} WHERE term LIKE 'car%%'")
            terms = sorted(t for (t,) in cursor.fetchall())
        if SQLITE:
            cursor.execute(f"SELECT name FROM pragma_table_info('{FTS_TABLE}')")
            extra = [name for (name,) in cursor.fetchall() if name not in ("document", "issue_id")]
            if extra:
                cursor.execute(f"SELECT DISTINCT scope FROM {FTS_TABLE} ORDER BY scope")
                extra = [s for (s,) in cursor.fetchall()]
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                f"SELECT DISTINCT lexeme FROM {DOC_TABLE}, unnest(document) "
                "WHERE left(lexeme, 1) = '_' ORDER BY 1"
            )
            extra = [lexeme for (lexeme,) in cursor.fetchall()]
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [Event._meta.db_table]
            )
        triggers = {name for (name,) in cursor.fetchall()}
    return extra, terms, f"{DOC_TABLE}_event_delete" in triggers


@pytest.mark.django_db(transaction=True)
def test_the_scope_migration_rewrites_the_index_forward_and_back(two_projects):
    """0017 (SQLite) and 0019 (PostgreSQL) take an index of 0014's form to this one and back."""
    first, second = two_projects
    before = {(p.name, q): _found(p, q) for p in two_projects for q in SEARCHES}
    prefix = fulltext.SCOPE_PREFIX if SQLITE else fulltext.PG_SCOPE_PREFIX
    scopes = sorted([f"{prefix}{first.pk}", f"{prefix}{second.pk}"])
    assert _index_form() == (scopes, ["cart", "carton"], True)
    call_command("migrate", "bugsink_issues", "0016", verbosity=0)  # back to 0014's form
    assert _index_form() == ([], None, True)
    call_command("migrate", "bugsink_issues", verbosity=0)
    with connection.schema_editor() as editor:
        fulltext.upgrade_index(editor)  # a second run finds the new form and leaves it
        fulltext.upgrade_postgres_index(editor)
    assert _index_form() == (scopes, ["cart", "carton"], True)
    assert {(p.name, q): _found(p, q) for p in two_projects for q in SEARCHES} == before
    Event.objects.all().delete()  # the trigger is back: the documents go with their events
    assert _documents() == set()


def test_a_free_text_count_stops_at_its_cap(client, two_projects, monkeypatch):
    first, _second = two_projects
    alice = make_user("alice2")
    client.force_login(alice)
    ProjectTeam.objects.create(project=first, team=make_team("First team", admins=[alice]))
    monkeypatch.setattr(issue_search, "TEXT_COUNT_CAP", 2)
    found, response = titles(client, first, "cart")
    assert len(found) == 3  # the page lists every match; only the count stops
    assert '<span class="bsk-total" data-total="2+">2+ issues</span>' in response.content.decode()
    found, response = titles(client, first, "payment")
    assert '<span class="bsk-total" data-total="1">1 issue</span>' in response.content.decode()
    found, response = titles(client, first, "")  # no free text: counted exactly
    assert '<span class="bsk-total" data-total="4">4 issues</span>' in response.content.decode()


def _documents():
    """{(the title of an event with the document, its event count)}: each document's text is
    its events' (they share it), and the title is the first word run of it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, events FROM {DOC_TABLE}")
        counts = dict(cursor.fetchall())
    titles = dict(
        Event.objects.filter(search_doc_id__in=counts).values_list("search_doc_id", "title")
    )
    return {(titles.get(doc_id, "?"), n) for doc_id, n in counts.items()}


def _plan(qs):
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(row[-1] for row in cursor.fetchall())


SORT_INDEXES = {
    "-last_seen": "bi_issue_status_seen",
    "-event_count": "bi_issue_status_count",
    "-first_seen": "bi_issue_status_first",
}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plans")
def test_a_status_list_is_counted_and_paged_from_its_indexes(project, digest):
    digest([spooled(project, python_exception(f"E{i}")) for i in range(3)])
    qs, _parsed = issue_search.filter_issues(
        project.issues.all(), projects=Project.objects.filter(pk=project.pk), status="open"
    )
    assert '"merged_into_id" IS NULL' in str(qs.query)  # the manager's, in every list
    # The count reads one index alone (no issue row), whatever the statistics say.
    for analyzed in (False, True):
        if analyzed:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        plan = _plan(qs.values("pk"))
        assert "COVERING INDEX bi_issue_status_" in plan, plan
        for order, index in SORT_INDEXES.items():  # a page in index order
            plan = _plan(qs.order_by(order, "-pk")[:51])
            # (ties on the sort column are put in id order: "RIGHT PART OF ORDER BY")
            assert index in plan, plan
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
    assert qs.count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plans")
def test_a_broad_search_checks_each_issue_it_walks(project, digest, monkeypatch):
    """Broad, the documents are checked per issue as the list is walked (a subplan that stops
    with the page), never joined in bulk, which would read every matching document first."""
    digest([spooled(project, python_exception(f"cart {i} failed")) for i in range(4)])
    monkeypatch.setattr(text_search, "PG_BROAD_ESTIMATE", -1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # whatever the statistics say, the shape stays
    qs, parsed = issue_search.filter_issues(
        project.issues.all(), projects=Project.objects.filter(pk=project.pk), query="cart failed"
    )
    sql, params = qs.order_by("-last_seen", "-pk")[:26].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "SubPlan" in plan and "Join" not in plan, plan
    assert issue_search.count_of(qs, parsed) == (4, False)
