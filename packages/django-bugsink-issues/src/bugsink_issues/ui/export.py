"""Issue and event exports: raw JSON, and Markdown that pastes well into a chat, an issue tracker
or an LLM prompt.

Event text is untrusted and is shown as text wherever the Markdown is rendered (GitHub, GitLab):
outside code blocks every character Markdown or HTML would read is escaped (`md_text`); inside,
the fence is longer than any run of backticks in the text (`_fence`).
"""

import json
import re

from bugsink_issues.digest.storage import load_payload
from bugsink_issues.ui.rendering import event_view, pairs

MAX_MD_FRAMES = 30
# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can start or
# end Markdown (emphasis, links, headings, lists, tables, strikethrough, code). `&`, `<` and `>`
# become entities instead, so no HTML tag or entity of the text survives.
_MD_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:\"'=^$@])")


def md_text(value):
    """Untrusted text for a Markdown line (a heading, a list item): one line, rendered as itself."""
    text = " ".join(str(value or "").split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_PUNCTUATION.sub(r"\\\1", text)


def event_json(event):
    return json.dumps(load_payload(event), indent=2, ensure_ascii=False, default=str)


def issue_json(issue, latest_event=None):
    data = {
        "id": issue.pk,
        "project": issue.project.name,
        "title": issue.title,
        "culprit": issue.culprit,
        "level": issue.level,
        "status": issue.status,
        "first_seen": issue.first_seen.isoformat(),
        "last_seen": issue.last_seen.isoformat(),
        "first_release": issue.first_release,
        "last_release": issue.last_release,
        "event_count": issue.event_count,
        "latest_event": load_payload(latest_event) if latest_event else None,
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _fence(text):
    # A fence longer than any backtick run inside, so payload text cannot close it early.
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _code(text, lang=""):
    fence = _fence(text)
    return f"{fence}{lang}\n{text}\n{fence}"


def event_markdown(event):
    data = load_payload(event)
    view = event_view(data)
    out = [f"### Event {md_text(event.event_id)}", ""]
    out.append(f"- Time: {event.timestamp.isoformat()}")
    for label, value in (
        ("Release", event.release),
        ("Environment", event.environment),
        ("Platform", event.platform),
        ("Transaction", event.transaction),
        ("User", event.user_label),
    ):
        if value:
            out.append(f"- {label}: {md_text(value)}")
    if view["message"]:
        out += ["", "Message:", _code(view["message"])]
    for exc in view["exceptions"]:
        lines = []
        for frame in exc["stack"]["frames"][:MAX_MD_FRAMES]:
            column = f", column {frame['colno']}" if frame["colno"] else ""
            where = (
                f'  File "{frame["filename"]}", line {frame["lineno"] or "?"}{column}, '
                f"in {frame['function']}"
            )
            lines.append(where + ("" if frame["in_app"] else "  [library]"))
            current = [s for s in frame["source"] if s["current"]]
            if current and frame["in_app"]:
                lines.append("    " + current[0]["text"].strip())
        header = f"{exc['type']}: {exc['value']}\n(most recent call first)"
        relation = f"{md_text(exc['relation'])}: " if exc["relation"] else ""
        out += [
            "",
            f"{relation}**{md_text(exc['type'])}**",
            _code(header + ("\n" + "\n".join(lines) if lines else "")),
        ]
    if view["breadcrumbs"]:
        crumbs = [
            f"{b['time'].isoformat() if b['time'] else b['timestamp']} "
            f"[{b['level']}] {b['category']} {b['message']}".strip()
            for b in view["breadcrumbs"][-15:]
        ]
        out += ["", "Breadcrumbs (latest last):", _code("\n".join(crumbs))]
    tags = data.get("tags")
    if tags:
        out += ["", "Tags: " + ", ".join(f"{md_text(k)}={md_text(v)}" for k, v in pairs(tags))]
    return "\n".join(out) + "\n"


def issue_markdown(issue, latest_event=None):
    out = [
        f"## {md_text(issue.title)}",
        "",
        f"- Project: {md_text(issue.project.name)}",
        f"- Culprit: {md_text(issue.culprit) or '-'}",
        f"- Level: {md_text(issue.level)}, status: {issue.status}",
        f"- Events: {issue.event_count}",
        f"- First seen: {issue.first_seen.isoformat()}"
        + (f" (release {md_text(issue.first_release)})" if issue.first_release else ""),
        f"- Last seen: {issue.last_seen.isoformat()}"
        + (f" (release {md_text(issue.last_release)})" if issue.last_release else ""),
        "",
    ]
    if latest_event is not None:
        out.append(event_markdown(latest_event))
    return "\n".join(out)
