"""An event's words cannot ping or phish through an alert: a hostile title sent with the real SDK
to a real deployment, with a Slack, a Discord, a Mattermost and a Teams channel pointing at a
local server that records what each would have been sent."""

import json
import re

import pytest

from harness.deployment import Deployment
from tests.security.servers import CAPTURE_HOST, CaptureServer
from tests.security.site import add_channel, channels, new_project, send_exception

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

PING = "<!channel> <!here> <@U024BE7LH> @everyone @here @channel @all"
PHISH = "<https://evil.example/login|Open issue> [Open issue](https://evil.example/login)"
HOSTILE = f"{PING} {PHISH} ![pixel](https://evil.example/p.png) **bold** `code` ||spoiler||"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = Deployment(
        tmp_path_factory.mktemp("markup") / "data",
        env={"BUGSINK_ALERT_ALLOW_PRIVATE": CAPTURE_HOST},
    )
    try:
        yield site.start()
    finally:
        site.stop()


@pytest.fixture(scope="module")
def bodies(site):
    """What each service was sent for one new issue with the hostile title."""
    capture = CaptureServer()
    try:
        project_id, dsn = new_project(site, "Shop")
        client = site.browser().login()
        for kind in ("slack", "discord", "mattermost", "teams"):
            page = add_channel(client, project_id, kind, f"{capture.url}/{kind}")
            assert "Alert channel added" in page, page[-2000:]
        assert len(channels(site, project_id)) == 4
        send_exception(dsn, HOSTILE)
        raw = capture.wait_for_paths(["/slack", "/discord", "/mattermost", "/teams"])
    finally:
        capture.close()
    return {path.strip("/"): json.loads(body) for path, body in raw.items()}


def unescaped(text: str, characters: str) -> list[str]:
    """The `characters` in Markdown `text` that no backslash escapes."""
    found = []
    for match in re.finditer(f"[{re.escape(characters)}]", text):
        backslashes = len(text[: match.start()]) - len(text[: match.start()].rstrip("\\"))
        if backslashes % 2 == 0:
            found.append(match.group())
    return found


MENTION = re.compile(r"@(everyone|here|channel|all)\b")


def test_slack_gets_mrkdwn_escaped(bodies):
    text = bodies["slack"]["text"]
    assert "ValueError" in text
    # No control sequence at all: every < and > of the event is an entity.
    assert "<" not in text and ">" not in text, text
    assert "&lt;!channel&gt;" in text and "&lt;@U024BE7LH&gt;" in text
    assert "&lt;https://evil.example/login|Open issue&gt;" in text
    assert set(bodies["slack"]) == {"text"}  # no link_names, no blocks that would parse


def test_discord_parses_no_mention_and_no_link(bodies):
    body = bodies["discord"]
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    for text in (body["content"], embed["title"], embed["description"]):
        assert not MENTION.search(text), text
        assert unescaped(text, "<>[]()*`|_~") == [], text
    assert "ValueError" in body["content"]
    assert r"\[Open issue\]\(https://evil.example/login\)" in body["content"]
    assert embed["url"].startswith("http://127.0.0.1:")


def test_mattermost_gets_markdown_escaped_and_no_mention(bodies):
    text = bodies["mattermost"]["text"]
    lines = text.split("\n")
    assert lines[0].startswith("**") and lines[0].endswith("**")
    event_text = "\n".join([lines[0][2:-2], *lines[1:-1]])
    assert "ValueError" in event_text
    assert not MENTION.search(text), text
    assert unescaped(event_text, "<>[]()*`|_~!") == [], event_text
    assert r"\!\[pixel\]\(https://evil.example/p.png\)" in text
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/issues/\d+/", lines[-1])  # our own link


def test_teams_shows_event_text_as_text(bodies):
    card = bodies["teams"]["attachments"][0]["content"]
    # TextBlocks are read as Markdown: none carries the event's words. TextRuns are shown as
    # they are, so there the title is verbatim.
    blocks = card["body"]
    assert all(block["type"] != "TextBlock" for block in blocks), blocks
    runs = [run for block in blocks for run in block.get("inlines", [])]
    assert all(run["type"] == "TextRun" for run in runs)
    assert any(HOSTILE in run["text"] for run in runs), runs
    assert card["actions"][0]["url"].startswith("http://127.0.0.1:")
