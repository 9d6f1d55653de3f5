"""Sentry's issue search syntax (`?query=` of the issue lists), parsed and applied to a queryset.

    is:unresolved release:1.2 !environment:staging assigned:me browser:"Chrome 120" timeout

- `is:` unresolved, resolved, ignored (also archived, muted: the old name), assigned, unassigned;
- `assigned:` / `assignee:` me, none, my_teams, #team-slug, a username, an e-mail or a user id;
- `level:`, `release:` (`latest` too), `environment:`, `firstRelease:`, any other `key:value` is a
  tag (the per-issue tag counts of the digest); `has:key`; `issue:` / `issue.id:` an id or short id;
- `firstSeen:` / `age:` / `lastSeen:` `-24h` (within), `+7d` (longer ago), `>2026-01-01`, ...;
  `timesSeen:>10`;
- `!` before a term negates it; `key:[a, b]` is any of the values; `*` in a value is a wildcard;
- the rest is free text, matched by the UI's own free-text search; a query that is a bare event
  id or a bare short id finds that event's issue or that issue (what the Sentry MCP server sends).

A term this module cannot honour is a QueryError (the API answers 400 with its message), never a
silently ignored filter, except free text, which is always accepted: clients pass a person's words
through verbatim.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import slugify

from bugsink_issues.models import Event, Issue, Release, TagValue, Team
from bugsink_issues.models.issues import IssueStatus, parse_short_id
from bugsink_issues.ui import search as ui_search

__all__ = [
    "QueryError",
    "SearchQuery",
    "Term",
    "apply_event_query",
    "apply_query",
    "parse_period",
    "parse_query",
]

_TOKEN = re.compile(
    r"""
    (?P<neg>!?)(?P<key>[A-Za-z_][\w.\-]*):(?P<value>"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S*)
    | "(?P<quoted>(?:[^"\\]|\\.)*)"
    | (?P<word>\S+)
    """,
    re.VERBOSE,
)
_EVENT_ID = re.compile(r"^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_RELATIVE = re.compile(r"^([+-])(\d+)([smhdw])$")
_COMPARISON = re.compile(r"^(>=|<=|>|<|=)?(.*)$")  # matches any text
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

STATUS_NAMES = {
    "unresolved": IssueStatus.UNRESOLVED,
    "resolved": IssueStatus.RESOLVED,
    "ignored": IssueStatus.MUTED,
    "archived": IssueStatus.MUTED,
    "muted": IssueStatus.MUTED,
}
ASSIGNEE_KEYS = {"assigned", "assignee", "assigned_or_suggested"}
DATE_KEYS = {
    "firstseen": "first_seen",
    "first_seen": "first_seen",
    "age": "first_seen",
    "lastseen": "last_seen",
    "last_seen": "last_seen",
}
COUNT_KEYS = {"timesseen", "times_seen"}
ISSUE_KEYS = {"issue", "issue.id", "id"}
# Keys that are issue columns rather than tags.
COLUMN_KEYS = {"level": "level", "firstrelease": "first_release", "first_release": "first_release"}


class QueryError(ValueError):
    """A search term the API cannot honour; the message says which and why."""


@dataclass(frozen=True)
class Term:
    key: str
    values: tuple[str, ...]
    negated: bool = False


@dataclass
class SearchQuery:
    terms: list[Term] = field(default_factory=list)
    text: str = ""

    def has_status(self):
        return any(t.key == "is" and t.values[0] in STATUS_NAMES for t in self.terms)


def _unquote(value):
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _values(raw):
    if raw.startswith("[") and raw.endswith("]"):
        parts = [_unquote(part.strip()) for part in raw[1:-1].split(",")]
        return tuple(part for part in parts if part)
    return (_unquote(raw),)


def parse_query(text):
    """A SearchQuery of the terms and free text in `text` (Sentry's syntax, see the module)."""
    query = SearchQuery()
    words = []
    for match in _TOKEN.finditer(text or ""):
        if match.group("key") is not None:
            values = _values(match.group("value"))
            if not values or values == ("",):
                raise QueryError(f"The search term {match.group(0)!r} has no value.")
            query.terms.append(
                Term(match.group("key").lower(), values, negated=match.group("neg") == "!")
            )
        elif match.group("quoted") is not None:
            words.append(match.group("quoted"))
        elif match.group("word") not in ("AND",):  # Sentry's implicit conjunction, spelt out
            if match.group("word") in ("OR", "(", ")"):
                raise QueryError("OR and parentheses are not supported in issue searches.")
            words.append(match.group("word"))
    query.text = " ".join(words).strip()
    return query


def parse_period(text):
    """A timedelta from Sentry's `statsPeriod` notation (`24h`, `14d`, `30m`, `2w`, `90s`)."""
    match = re.fullmatch(r"(\d+)([smhdw])", (text or "").strip())
    if not match:
        raise QueryError(f"Invalid period {text!r}: a number followed by s, m, h, d or w.")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def apply_query(qs, query, *, user=None, now=None, project_ids=None):
    """`qs` (issues) narrowed by `query` (a SearchQuery or text). `user`: who `me` is;
    `project_ids`: the projects `qs` is within, when the caller knows them (tag terms look their
    values up per project; otherwise the projects are a subquery of `qs`)."""
    if not isinstance(query, SearchQuery):
        query = parse_query(query)
    now = now or timezone.now()
    projects = qs.values("project_id").order_by().distinct() if project_ids is None else project_ids
    for term in query.terms:
        condition = _condition(term, user=user, now=now, projects=projects)
        qs = qs.exclude(condition) if term.negated else qs.filter(condition)
    if query.text:
        qs = _text(qs, query.text, project_ids)
    return qs


def _any(conditions):
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined


def _condition(term, *, user, now, projects):
    key = term.key
    if key == "is":
        return _any(_is(value, user) for value in term.values)
    if key in ASSIGNEE_KEYS:
        return _any(_assigned(value, user) for value in term.values)
    if key in DATE_KEYS:
        return _date(DATE_KEYS[key], term.values[0], now, relative_is_age=key == "age")
    if key in COUNT_KEYS:
        return _count(term.values[0])
    if key in ISSUE_KEYS:
        return _any(_issue(value) for value in term.values)
    if key == "has":
        return _any(_tag(v, None, projects) for v in term.values)
    if key in ("message", "title"):
        return _any(Q(title__icontains=v) | Q(culprit__icontains=v) for v in term.values)
    if key == "project":
        return _any(Q(project__slug=v) | _digits(v, "project_id") for v in term.values)
    if key in COLUMN_KEYS:
        column = COLUMN_KEYS[key]
        return _any(_match(column, v.lower() if key == "level" else v) for v in term.values)
    if key == "release":
        return _any(_tag("release", v, projects) for v in _releases(term.values, projects))
    return _any(_tag(key, value, projects) for value in term.values)


def _digits(value, column):
    return Q(**{column: int(value)}) if value.isdigit() else Q(pk__in=[])


def _is(value, user):
    value = value.lower()
    if value in STATUS_NAMES:
        return Q(status=STATUS_NAMES[value])
    if value == "assigned":
        return Q(assigned_user__isnull=False) | Q(assigned_team__isnull=False)
    if value == "unassigned":
        return Q(assigned_user__isnull=True, assigned_team__isnull=True)
    if value == "for_review":  # Sentry's inbox: what is open and nobody has taken
        return Q(
            status=IssueStatus.UNRESOLVED, assigned_user__isnull=True, assigned_team__isnull=True
        )
    raise QueryError(
        f"Unsupported is:{value}: use unresolved, resolved, ignored, assigned or unassigned."
    )


def _assigned(value, user):
    lowered = value.lower()
    if lowered == "me":
        if user is None:
            raise QueryError("assigned:me needs a user token (an organization token has no user).")
        return Q(pk__in=Issue.objects.assigned_to_user(user).values("pk"))
    if lowered == "my_teams":
        if user is None:
            raise QueryError("assigned:my_teams needs a user token.")
        return Q(assigned_team__memberships__user=user)
    if lowered == "none":
        return Q(assigned_user__isnull=True, assigned_team__isnull=True)
    if value.startswith("#"):
        slug = value[1:].lower()
        teams = [t.pk for t in Team.objects.all() if slugify(t.name) == slug or str(t.pk) == slug]
        return Q(assigned_team__in=teams)
    User = get_user_model()
    users = User.objects.filter(
        Q(**{User.USERNAME_FIELD: value}) | Q(email__iexact=value) | _digits(value, "pk")
    )
    return Q(assigned_user__in=users.values("pk"))


def _date(column, raw, now, relative_is_age):
    relative = _RELATIVE.match(raw)
    if relative:
        sign, amount, unit = relative.groups()
        moment = now - timedelta(**{_UNITS[unit]: int(amount)})
        # -24h: within the last 24 hours; +24h: longer ago than that.
        return Q(**{f"{column}__gte" if sign == "-" else f"{column}__lt": moment})
    op, value = _comparison(raw)
    moment = _moment(value)
    lookups = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
    if op in lookups:
        return Q(**{f"{column}__{lookups[op]}": moment})
    day = moment.date() if isinstance(moment, datetime) else moment
    return Q(**{f"{column}__date": day})


def _comparison(raw):
    """(operator or None, value) of `>=2026-01-01`, `<10`, `5`."""
    match = _COMPARISON.match(raw)
    assert match is not None  # the pattern matches every string
    return match.group(1), match.group(2)


def _moment(value):
    parsed = parse_datetime(value)
    if parsed is not None:
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
    day = parse_date(value)
    if day is None:
        raise QueryError(f"Invalid date {value!r}: use 2026-01-31, 2026-01-31T12:00:00 or -24h.")
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _count(raw):
    op, value = _comparison(raw)
    if not value.isdigit():
        raise QueryError(f"timesSeen needs a number, got {raw!r}.")
    lookups = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "exact", None: "exact"}
    return Q(**{f"event_count__{lookups[op]}": int(value)})


def _issue(value):
    if value.isdigit():
        return Q(pk=int(value))
    parsed = parse_short_id(value)
    if parsed is None:
        raise QueryError(f"issue:{value}: an issue id or a short id such as WEB-12.")
    slug, number = parsed
    return Q(project__slug__iexact=slug, number=number)


def _glob(value):
    """Sentry's `*` wildcard as a case-insensitive regular expression, or None without one."""
    if "*" not in value:
        return None
    return "^" + ".*".join(re.escape(part) for part in value.split("*")) + "$"


def _match(column, value):
    pattern = _glob(value)
    return Q(**{f"{column}__iregex": pattern}) if pattern else Q(**{column: value})


def _tag(key, value, projects):
    """Issues with an event tagged `key` = `value` (any value: None), through the (project, key,
    value) unique index of TagValue for the projects in question."""
    tag_values = TagValue.objects.filter(project_id__in=projects, key=key)
    pattern = _glob(value) if value is not None else None
    if pattern:
        tag_values = tag_values.filter(value__iregex=pattern)
    elif value is not None:
        tag_values = tag_values.filter(value=value)
    return Q(pk__in=ui_search.issues_tagged(tag_values))


def _releases(values, projects):
    """`latest` stands for each project's latest release (Sentry's `release:latest`)."""
    out = []
    for value in values:
        if value.lower() != "latest":
            out.append(value)
            continue
        project_ids = (
            projects
            if isinstance(projects, list)
            else list(projects.values_list("project_id", flat=True))
        )
        for project_id in set(project_ids):
            version = (
                Release.objects.filter(project_id=project_id)
                .order_by("-sort_order")
                .values_list("version", flat=True)
                .first()
            )
            if version:
                out.append(version)
    return out or ["\x00none"]


def _text(qs, text, project_ids=None):
    """Free text. A bare event id finds its issue; a bare short id that issue; anything else goes
    to the UI's own free-text search (every word starts a word of an event's title, culprit,
    message or exception), so both search the same way."""
    if _EVENT_ID.match(text):
        event_id = text.replace("-", "").lower()
        issue_ids = Event.objects.filter(event_id=event_id).values("issue_id")
        return qs.filter(pk__in=issue_ids)
    if " " not in text and parse_short_id(text) is not None:
        by_short_id = qs.filter(pk__in=Issue.objects.with_short_id(text).values("pk"))
        if by_short_id.exists():
            return by_short_id
    return ui_search.text_filter(qs, text, project_ids=project_ids)


# The columns an event search can filter on (an event's tags are in its payload, not in columns).
EVENT_COLUMNS = {
    "environment": "environment",
    "release": "release",
    "level": "level",
    "transaction": "transaction",
    "server_name": "server_name",
    "server": "server_name",
    "platform": "platform",
    "user": "user_label",
    "user.email": "user_label",
    "user.id": "user_label",
    "user.display": "user_label",
    "id": "event_id",
    "event.id": "event_id",
}


def apply_event_query(qs, text):
    """`qs` (events) narrowed by a search: `key:value` on EVENT_COLUMNS (with `!`, lists and
    wildcards as for issues), and free text as the issue page's event search matches it."""
    query = parse_query(text)
    for term in query.terms:
        if term.key in ("issue", "issue.id"):
            continue  # the path names the issue already (the MCP server repeats it)
        column = EVENT_COLUMNS.get(term.key)
        if column is None:
            raise QueryError(
                f"Events cannot be searched by {term.key!r}: use "
                + ", ".join(sorted(set(EVENT_COLUMNS)))
                + ", or free text."
            )
        values = term.values
        if column == "event_id":
            values = tuple(v.replace("-", "").lower() for v in values)
        condition = _any(_match(column, value) for value in values)
        qs = qs.exclude(condition) if term.negated else qs.filter(condition)
    if query.text:
        qs = qs.matching(query.text)
    return qs
