"""The issue list's rows as HTML, built here rather than in the template: a page of 50 rows was
about 800 template variables, each resolved, localized and escaped by Django's template engine, the
largest part of the list's time. Every value from an issue is escaped here; numbers are written
plainly (a host's USE_THOUSAND_SEPARATOR would put `1,234` into the rows' links)."""

from collections.abc import Iterable
from html import escape

from django.utils.safestring import SafeString, mark_safe

from bugsink_issues.models import Issue
from bugsink_issues.templatetags.bugsink_ui import ago, stamp


def issue_rows(
    rows: Iterable[tuple[Issue, str]], issue_base: str, with_project: bool
) -> SafeString:
    """`<tr>`s for (issue, its sparkline's SVG) pairs; `issue_base` is the issue page's URL
    without the id; `with_project`: name each issue's project (a list across projects)."""
    base = escape(issue_base)
    html = []
    for issue, spark in rows:
        href = f"{base}{int(issue.pk)}/"
        level = escape(issue.level)
        sub = [f'<span class="bsk-level">{level}</span>']
        if with_project:
            sub.append(f' <span class="bsk-proj">{escape(issue.project.name)}</span>')
        sub.append(f' <span class="mono">{escape(issue.culprit)}</span>')
        if issue.status != "unresolved":
            sub.append(f' <span class="bsk-badge">{escape(issue.status)}</span>')
        assignee = issue.assignee
        if assignee:
            sub.append(
                ' <span class="bsk-badge bsk-assignee" title="assigned to">'
                f"→ {escape(str(assignee))}</span>"
            )
        html.append(
            f'<tr data-row data-href="{href}" class="lvl-{level}">'
            '<td class="bsk-check"><input type="checkbox" name="issue" '
            f'value="{int(issue.pk)}" aria-label="Select"></td>'
            f'<td class="bsk-issue-main"><a href="{href}" class="bsk-title" data-open>'
            f'{escape(issue.title)}</a><div class="bsk-sub">{"".join(sub)}</div></td>'
            # The sparkline is ours (numbers only, sparkline_svg), already safe.
            f'<td class="bsk-spark">{spark}</td>'
            f'<td class="num" title="events">{int(issue.event_count)}</td>'
            f'<td class="bsk-when"><span title="last seen {escape(stamp(issue.last_seen))}">'
            f"{ago(issue.last_seen)}</span>"
            f'<div class="muted" title="first seen {escape(stamp(issue.first_seen))}">'
            f"{ago(issue.first_seen)} old</div></td></tr>\n"
        )
    return mark_safe("".join(html))
