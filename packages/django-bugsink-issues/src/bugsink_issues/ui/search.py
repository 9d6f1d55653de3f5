"""The issue list query: status filter, `key:value` search, sorting, keyset pagination.

Pagination never counts: it fetches one row more than a page to know whether a next page exists,
and the next page starts after the last row's (sort value, id), so deep pages cost as much as the
first (the indexes on (project, sort column) serve it).
"""

import shlex
from datetime import datetime

from django.db.models import Q

from bugsink_issues.models import IssueTagValue
from bugsink_issues.models.issues import IssueStatus

PAGE_SIZE = 50
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
TAG_KEYS = {"release", "environment", "level", "is", "browser", "os", "server", "user", "url"}


def parse_query(text):
    """(free words, [(key, value)]) from e.g. `release:1.2 is:muted "connection refused"`."""
    try:
        tokens = shlex.split(text or "")
    except ValueError:  # an unbalanced quote: take the words as they are
        tokens = (text or "").split()
    words, terms = [], []
    for token in tokens:
        key, sep, value = token.partition(":")
        if sep and key.lower() in TAG_KEYS and value:
            terms.append((key.lower(), value))
        else:
            words.append(token)
    return " ".join(words), terms


def filter_issues(qs, *, status="open", query=""):
    text, terms = parse_query(query)
    for key, value in terms:
        if key == "is":
            status = {"unresolved": "open"}.get(value.lower(), value.lower())
        elif key == "level":
            qs = qs.filter(level=value.lower())
        else:
            tagged = IssueTagValue.objects.filter(key=key, tag_value__value=value).values(
                "issue_id"
            )
            qs = qs.filter(pk__in=tagged)
    statuses = STATUSES.get(status, STATUSES["open"])
    if statuses:
        qs = qs.filter(status__in=statuses)
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(culprit__icontains=text))
    return qs


def page_of(qs, *, sort="last_seen", after=""):
    """(rows, cursor of the next page or ""). `after` is the cursor from the previous page."""
    column = SORTS.get(sort, SORTS["last_seen"])[0]
    qs = qs.order_by(f"-{column}", "-id")
    value, sep, last_id = (after or "").rpartition("~")
    if sep and last_id.isdigit():
        parsed = _parse(column, value)
        if parsed is not None:
            qs = qs.filter(
                Q(**{f"{column}__lt": parsed}) | Q(**{column: parsed, "id__lt": int(last_id)})
            )
    rows = list(qs[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    cursor = ""
    if more:
        last = rows[-1]
        raw = getattr(last, column)
        cursor = f"{raw.isoformat() if isinstance(raw, datetime) else raw}~{last.pk}"
    return rows, cursor


def _parse(column, value):
    try:
        if column == "event_count":
            return int(value)
        return datetime.fromisoformat(value)
    except ValueError:
        return None
