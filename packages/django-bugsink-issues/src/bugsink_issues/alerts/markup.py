"""Event text made inert for each chat service's markup.

An alert quotes what an SDK sent (the title, the culprit): anyone holding a project's DSN, which
browser code ships to every visitor, chooses those words. Left as they are, `<!channel>` pings a
whole Slack channel, `@everyone` a Discord server, and `<https://evil|Open issue>` or
`[Open issue](https://evil)` is a link that says something else than where it goes. Each service
gets the text escaped its own way; the senders (channels.py) escape every piece they did not write
themselves, and Discord is also told to parse no mentions at all (`allowed_mentions`).
"""

import re

__all__ = ["markdown_text", "plain_line", "slack_text"]

# Slack's mrkdwn: control sequences live between < and >, and & starts an entity. Slack documents
# exactly these three as what must be escaped.
_SLACK = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})

# Markdown of Discord and Mattermost: a backslash before any ASCII punctuation shows it as itself
# (CommonMark; Discord's parser alike). These are the characters that start links, images,
# autolinks, mentions (<@id>), emphasis, code, spoilers, tables, headings and quotes.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|<>\[\]()#!])")
# A mention is @ followed by a name (@everyone, @here, @channel, @all, @someone): a zero-width
# space after the @ leaves the text as it reads and makes it no mention on either service.
_AT = re.compile(r"@(?=\w)")
_ZERO_WIDTH_SPACE = "\u200b"


def plain_line(text: str) -> str:
    """One line: a line break would let the text start a heading, a quote or a list."""
    return " ".join(str(text).split())


def slack_text(text: str) -> str:
    """For Slack's `text` (mrkdwn): no <!channel>, <@user> or <url|label> survives."""
    return plain_line(text).translate(_SLACK)


def markdown_text(text: str) -> str:
    """For Discord's and Mattermost's Markdown: no link, mention or formatting survives."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", plain_line(text))
    return _AT.sub("@" + _ZERO_WIDTH_SPACE, escaped)
