"""Issue and event exports: raw JSON, and Markdown that pastes well into a chat or an LLM prompt."""

import json

from bugsink_issues.digest.storage import load_payload
from bugsink_issues.ui.rendering import event_view, pairs

MAX_MD_FRAMES = 30


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
    out = [f"### Event {event.event_id}", ""]
    out.append(f"- Time: {event.timestamp.isoformat()}")
    for label, value in (
        ("Release", event.release),
        ("Environment", event.environment),
        ("Platform", event.platform),
        ("Transaction", event.transaction),
        ("User", event.user_label),
    ):
        if value:
            out.append(f"- {label}: {value}")
    if view["message"]:
        out += ["", "Message:", _code(view["message"])]
    for exc in view["exceptions"]:
        lines = []
        for frame in exc["stack"]["frames"][:MAX_MD_FRAMES]:
            where = f'  File "{frame["filename"]}", line {frame["lineno"] or "?"}, in {frame["function"]}'
            lines.append(where + ("" if frame["in_app"] else "  [library]"))
            current = [s for s in frame["source"] if s["current"]]
            if current and frame["in_app"]:
                lines.append("    " + current[0]["text"].strip())
        header = f"{exc['type']}: {exc['value']}\n(most recent call first)"
        out += [
            "",
            f"**{exc['type']}**",
            _code(header + ("\n" + "\n".join(lines) if lines else "")),
        ]
    if view["breadcrumbs"]:
        crumbs = [
            f"{b['timestamp']} [{b['level']}] {b['category']} {b['message']}".strip()
            for b in view["breadcrumbs"][-15:]
        ]
        out += ["", "Breadcrumbs (latest last):", _code("\n".join(crumbs))]
    tags = data.get("tags")
    if tags:
        out += ["", "Tags: " + ", ".join(f"{k}={v}" for k, v in pairs(tags))]
    return "\n".join(out) + "\n"


def issue_markdown(issue, latest_event=None):
    out = [
        f"## {issue.title}",
        "",
        f"- Project: {issue.project.name}",
        f"- Culprit: {issue.culprit or '-'}",
        f"- Level: {issue.level}, status: {issue.status}",
        f"- Events: {issue.event_count}",
        f"- First seen: {issue.first_seen.isoformat()}"
        + (f" (release {issue.first_release})" if issue.first_release else ""),
        f"- Last seen: {issue.last_seen.isoformat()}"
        + (f" (release {issue.last_release})" if issue.last_release else ""),
        "",
    ]
    if latest_event is not None:
        out.append(event_markdown(latest_event))
    return "\n".join(out)
