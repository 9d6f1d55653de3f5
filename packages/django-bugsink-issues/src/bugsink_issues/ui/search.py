"""The issue list query: status filter, the search language, sorting, keyset pagination.

The search language (the list's placeholder shows it):

- free words and "quoted phrases": every word must start a word of an event's title, culprit,
  message or exception (the database's full-text index, models/fulltext/);
- `is:open` (or `unresolved`), `is:resolved`, `is:muted`, `is:all`: the status, over the tab's;
- `level:error` (debug, info, warning, error, fatal);
- `release:1.2`: a release or a version prefix, with or without the package (`myshop@1.2.0` is
  matched by `1.2`, `1.2.0`, `myshop`, `myshop@1.2`; `1.20.0` is not matched by `1.2`);
- `environment:prod`: an environment by its start (`production`);
- any other `key:value`: a tag with that key and value, as the issue page's Tags tab shows them.

A term that cannot mean anything (`is:regressed`, `level:loud`, a tag key no event here has) is an
error shown above the list, and the query then matches nothing: it is never silently ignored.

Pagination never counts: it fetches one row more than a page to know whether another page
exists, and a page starts after (or, going back, before) the (sort value, id) of a row of the page
next to it, so deep pages cost as much as the first. The list shows a total, counted apart.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet

from bugsink_issues.models import IssueTagValue, TagValue
from bugsink_issues.models.fulltext import MAX_SCOPED_PROJECTS, issue_filter
from bugsink_issues.models.issues import IssueStatus, Level

PAGE_SIZE = 50
MAX_LISTED_TAG_VALUES = 500  # a term's TagValue ids written into the query (issues_tagged)
SORTS = {
    "last_seen": ("last_seen", "Last seen"),
    "first_seen": ("first_seen", "First seen"),
    "events": ("event_count", "Events"),
}
STATUSES = {
    "open": [IssueStatus.UNRESOLVED],
    "resolved": [IssueStatus.RESOLVED],
    "muted": [IssueStatus.MUTED],
    "all": None,
}
STATUS_WORDS = {
    "open": "open",
    "unresolved": "open",
    "resolved": "resolved",
    "muted": "muted",
    "all": "all",
}
LEVELS = set(Level.values)
PLACEHOLDER = "Search: text, release:1.2 environment:prod level:error is:muted"
HELP = "Also any tag as key:value, as an issue's Tags tab shows them (its values link to it)."

_QUOTED = r'"(?:[^"\\]|\\.)*"'
_KEY = r"[A-Za-z_][\w.\-/]*"
_TOKEN = re.compile(
    rf"(?:(?P<qkey>{_QUOTED})|(?P<key>{_KEY})):(?:(?P<qvalue>{_QUOTED})|(?P<value>\S+))"
    rf'|(?P<phrase>{_QUOTED})|"(?P<open>[^"]*)$'
    r"|(?P<word>\S+)"
)


@dataclass
class SearchQuery:
    """A parsed search: free text, `key:value` terms, and what could not be understood."""

    text: str = ""
    terms: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _unquote(quoted):
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_term(key, value):
    """The term that finds tag `key` = `value` (quoted where the syntax needs it): what the Tags
    tab links to."""
    if not re.fullmatch(_KEY, key):
        key = _quote(key)
    if not value or value.startswith("//") or re.search(r'[\s"\\]', value):
        value = _quote(value)
    return f"{key}:{value}"


def parse_query(text):
    """`release:1.2 is:muted "connection refused"` -> SearchQuery(text, terms)."""
    query = SearchQuery()
    words = []
    for match in _TOKEN.finditer(text or ""):
        groups = match.groupdict()
        key = _unquote(groups["qkey"]) if groups["qkey"] else groups["key"]
        if key:
            quoted = groups["qvalue"] is not None
            value = _unquote(groups["qvalue"]) if quoted else groups["value"].strip('"')
            if value and (quoted or not value.startswith("//")):
                query.terms.append((key, value))
            else:  # `key:""`, or "http://...": text, not a term
                words.append(match.group(0))
        elif groups["phrase"]:
            words.append(_unquote(groups["phrase"]))
        else:
            words.append(groups["open"] or groups["word"] or "")
    query.text = " ".join(w for w in words if w.strip())
    return query


def release_filter(value):
    """TagValue values that `release:value` means (see the module docstring)."""
    q = Q(value=value) | Q(value__endswith="@" + value) | Q(value__startswith=value + "@")
    for separator in ".-+":
        q |= Q(value__startswith=value + separator) | Q(value__contains=f"@{value}{separator}")
    return q


def _tag_values(projects, key, value):
    """The TagValue ids a term selects in these projects, or an error message."""
    tags = TagValue.objects.filter(project__in=projects, key=key)
    if key.lower() == "release":
        tags = TagValue.objects.filter(project__in=projects, key="release")
        return tags.filter(release_filter(value)), None
    if key.lower() == "environment":
        tags = TagValue.objects.filter(project__in=projects, key="environment")
        return tags.filter(value__startswith=value), None
    if not tags.exists():
        return None, f"No event here has a tag {key!r} (the Tags tab of an issue lists its tags)."
    return tags.filter(value=value), None


def issues_tagged(tag_values):
    """The ids of issues with one of these TagValues, as a subquery. The values' ids are listed
    in it when there are few, as nearly always: given a subquery instead, the planner estimates
    its rows from averages and may read every issue's tags (SQLite at 5M events: a scan of
    200,000 rows, 18 ms, where the index on the value finds its issues in well under one)."""
    ids = list(tag_values.values_list("id", flat=True)[: MAX_LISTED_TAG_VALUES + 1])
    listed = ids if len(ids) <= MAX_LISTED_TAG_VALUES else tag_values
    return IssueTagValue.objects.filter(tag_value__in=listed).values("issue_id")


def filter_issues(qs, *, projects, status="open", query=""):
    """(issues matching the status tab and the search, SearchQuery). `projects`: the projects
    searched (tag keys are looked up in them)."""
    parsed = parse_query(query)
    for key, value in parsed.terms:
        term = search_term(key, value)
        special = key.lower()
        if special == "is":
            status = STATUS_WORDS.get(value.lower())
            if status is None:
                parsed.errors.append(
                    f"Unknown search term {term}: is: takes open, resolved, muted or all."
                )
        elif special == "level":
            if value.lower() not in LEVELS:
                parsed.errors.append(
                    f"Unknown search term {term}: level: takes {', '.join(Level.values)}."
                )
            qs = qs.filter(level=value.lower())
        else:
            tag_values, error = _tag_values(projects, key, value)
            if error:
                parsed.errors.append(f"Unknown search term {term}: {error}")
                continue
            qs = qs.filter(pk__in=issues_tagged(tag_values))
    if parsed.errors:
        return qs.none(), parsed
    statuses = STATUSES.get(status or "open", STATUSES["open"])
    if statuses:
        qs = qs.filter(status__in=statuses)
    if parsed.text:
        qs = text_filter(qs, parsed.text, project_ids=_ids(projects))
    return qs, parsed


def _ids(projects):
    """The ids of `projects` (a queryset or ids), or None when there are too many to scope by."""
    if not isinstance(projects, QuerySet):
        return list(projects)
    ids = list(projects.values_list("pk", flat=True)[: MAX_SCOPED_PROJECTS + 1])
    return ids if len(ids) <= MAX_SCOPED_PROJECTS else None


def text_filter(qs, text, project_ids=None):
    """The issues of `qs` with a stored event matching every word of `text` (the free text).
    `project_ids`: the projects `qs` is within, when the caller knows them."""
    if connection.vendor not in ("sqlite", "postgresql"):
        return qs.filter(Q(title__icontains=text) | Q(culprit__icontains=text))
    matching = issue_filter(text, project_ids)
    if matching is None:  # punctuation only: nothing to look up
        return qs
    return qs.filter(matching)


# A list searched by free text counts its issues up to this many and then says "1000+" (as
# Sentry's stream does): a broad search finds its page in the first issues it checks, but an exact
# count would check every issue of the project.
TEXT_COUNT_CAP = 1000


def count_of(qs, parsed):
    """(the number of issues in `qs`, whether there are more): exact unless free text is searched,
    then at most TEXT_COUNT_CAP."""
    if not parsed.text:
        return qs.count(), False
    n = qs[: TEXT_COUNT_CAP + 1].count()
    return min(n, TEXT_COUNT_CAP), n > TEXT_COUNT_CAP


@dataclass
class Page:
    rows: list
    next_cursor: str = ""  # ?after= of the next page, "" on the last
    previous_cursor: str = ""  # ?before= of the previous page, "" on the first


def page_of(qs, *, sort="last_seen", after="", before=""):
    """One page of `qs` in `sort` order (newest, largest first), after or before a cursor."""
    column = SORTS.get(sort, SORTS["last_seen"])[0]
    back = _cursor(column, before)
    if back is not None:
        value, last_id = back
        newer = Q(**{f"{column}__gt": value}) | Q(**{column: value, "id__gt": last_id})
        rows = list(qs.filter(newer).order_by(column, "id")[: PAGE_SIZE + 1])
        has_previous = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        has_next = True  # the page we came back from
    else:
        forward = _cursor(column, after)
        qs = qs.order_by(f"-{column}", "-id")
        if forward is not None:
            value, last_id = forward
            qs = qs.filter(Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lt": last_id}))
        rows = list(qs[: PAGE_SIZE + 1])
        has_next = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        has_previous = forward is not None
    if not rows:
        return Page(rows)
    return Page(
        rows,
        next_cursor=_encode(rows[-1], column) if has_next else "",
        previous_cursor=_encode(rows[0], column) if has_previous else "",
    )


def _encode(issue, column):
    raw = getattr(issue, column)
    return f"{raw.isoformat() if isinstance(raw, datetime) else raw}~{issue.pk}"


def _cursor(column, text):
    """(sort value, id) of a cursor, or None if it is missing or broken."""
    value, sep, last_id = (text or "").rpartition("~")
    if not sep or not last_id.isdigit():
        return None
    try:
        parsed = int(value) if column == "event_count" else datetime.fromisoformat(value)
    except ValueError:
        return None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        return None  # every cursor this module writes is aware
    return parsed, int(last_id)
