"""What the issue page shows of real SDK events: breadcrumb times in the user's time zone, column
numbers, how chained exceptions and exception groups relate; and Markdown exports that render as
text on GitHub and GitLab."""

import html
import re
import zoneinfo
from datetime import UTC, datetime
from html.parser import HTMLParser

import cmarkgfm
import pytest
from django.urls import reverse

from bugsink_issues.models import Event, Issue
from bugsink_issues.models.access import UserPreferences
from bugsink_issues.ui.export import md_text
from tests.factories import (
    capture_payload,
    make_project,
    make_team,
    make_user,
    python_exception,
    spooled,
)
from tests.issues.sdk_events import sdk_events

pytestmark = pytest.mark.django_db
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture
def alice(db):
    user = make_user("alice")
    project = make_project("Shop", team=make_team("Shop team", admins=[user]))
    UserPreferences.objects.create(user=user, time_zone="Asia/Tokyo")
    return user, project


def _page(client, event, tab):
    url = reverse("bugsink_issues:event", args=[event.issue_id, event.pk])
    response = client.get(url, {"tab": tab, "frames": "all"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("capture", "sent"),
    [
        ("008", "2026-11-27T17:08:44.163241Z"),  # sentry-python: ISO 8601
        ("026", 1795799434.781),  # @sentry/node: Unix seconds
    ],
)
def test_breadcrumb_times_are_shown_in_the_users_time_zone(client, alice, digest, capture, sent):
    user, project = alice
    payload = capture_payload(capture)
    crumbs = payload["breadcrumbs"]  # {"values": [...]} from Python, a plain list from Node
    crumbs = crumbs["values"] if isinstance(crumbs, dict) else crumbs
    assert crumbs[0]["timestamp"] == sent  # what the SDK sent
    digest([spooled(project, payload)])
    client.force_login(user)
    body = _page(client, Event.objects.get(), "breadcrumbs")
    moment = (
        datetime.fromtimestamp(sent, tz=UTC)
        if isinstance(sent, float)
        else datetime.fromisoformat(sent)
    )
    local = moment.astimezone(TOKYO)
    assert f">{local:%H:%M:%S}.{local.microsecond // 1000:03d}</time>" in body
    assert f'title="{local:%Y-%m-%d %H:%M:%S} JST"' in body
    assert str(sent) not in re.sub(r'datetime="[^"]*"', "", body)  # not the raw value


def test_frames_show_the_column_number(client, alice, digest):
    user, project = alice
    payload = capture_payload("029")
    frame = payload["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert (frame["lineno"], frame["colno"]) == (33, 17)
    digest([spooled(project, payload)])
    client.force_login(user)
    event = Event.objects.get()
    assert ":33:17</span>" in _page(client, event, "stacktrace")
    md = client.get(reverse("bugsink_issues:event_export", args=[event.issue_id, event.pk, "md"]))
    assert "line 33, column 17, in" in md.content.decode()
    # Python frames have no column: none is made up.
    digest([spooled(project, python_exception("E", "x"))])
    python_event = Event.objects.get(title="E: x")
    assert re.search(r":10</span>", _page(client, python_event, "stacktrace"))


def _relations(body):
    return [html.unescape(r) for r in re.findall(r'<p class="bsk-relation">([^<]+)</p>', body)]


def test_chained_exceptions_say_caused_by_and_while_handling_apart(client, alice, digest):
    user, project = alice
    payloads = sdk_events("chains")  # five raises, captured by sentry-python
    digest([spooled(project, payload) for payload in payloads])
    client.force_login(user)

    def relations(title):
        event = Event.objects.get(title__startswith=title)
        return _relations(_page(client, event, "stacktrace"))

    assert relations("RuntimeError: checkout failed") == ["Caused by"]  # raise ... from exc
    assert relations("RuntimeError: cleanup failed") == ["While handling"]  # implicit __context__
    assert relations("ValueError: invalid literal") == ["While handling"]  # a failing call
    # An exception group raised from another exception: the SDK marks both relations.
    assert relations("ExceptionGroup: payment batch") == [
        "Caused by",
        'Exception 1 of ExceptionGroup "payment batch"',
        'Exception 2 of ExceptionGroup "payment batch"',
    ]
    assert relations("ExceptionGroup: outer") == [
        'Exception 1 of ExceptionGroup "outer"',
        'Exception 2 of ExceptionGroup "outer"',
        'Exception 1 of ExceptionGroup "inner"',
    ]
    nested = _page(
        client, Event.objects.get(title__startswith="ExceptionGroup: outer"), "stacktrace"
    )
    assert "bsk-depth-2" in nested  # the inner group's member sits deeper
    # A plain chain without source lines cannot be told apart: the page says so.
    payload = next(p for p in payloads if p["exception"]["values"][-1]["value"] == "cleanup failed")
    for value in payload["exception"]["values"]:
        for frame in value["stacktrace"]["frames"]:
            frame.pop("context_line", None)
    payload.pop("event_id", None)
    digest([spooled(project, {**payload, "fingerprint": ["no-source"]})])
    event = Event.objects.order_by("-pk").first()
    assert _relations(_page(client, event, "stacktrace")) == [
        "Caused by, or raised while handling (the SDK does not say which)"
    ]


def test_java_and_javascript_chains_are_causes(client, alice, digest):
    from tests.factories import load_sample

    user, project = alice
    digest([spooled(project, load_sample("java-chained.json"))])
    digest([spooled(project, capture_payload("029"))])
    client.force_login(user)
    java = Event.objects.get(platform="java")
    assert _relations(_page(client, java, "stacktrace")) == ["Caused by", "Caused by"]
    node = Event.objects.exclude(platform="java").get()
    relations = _relations(_page(client, node, "stacktrace"))
    assert relations and all(
        r.startswith("Exception ") and " of AggregateError" in r for r in relations
    )


HOSTILE = (
    "<script>alert(1)</script><img src=x onerror=alert(2)> **bold** _em_ [link](http://evil.example)"
    " `code` ~~gone~~ | a | b | # heading &amp; &lt;"
)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _render(markdown):
    """GitHub's own Markdown (cmark-gfm), raw HTML passed through as before its sanitiser."""
    rendered = cmarkgfm.github_flavored_markdown_to_html(
        markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE
    )
    parser = _Text()
    parser.feed(rendered)
    return " ".join("".join(parser.text).split()), set(parser.tags)


def test_markdown_exports_render_event_text_as_text(client, alice, digest):
    user, project = alice
    payload = python_exception("Hostile" + "Error", HOSTILE, release="shop@1.0 <b>x</b>")
    payload.update(
        message=HOSTILE,
        tags={"note": HOSTILE[:190]},
        transaction="/pay/<script>",
        user={"email": "**ana**@example.com"},
        environment="prod_[x]",
    )
    digest([spooled(project, payload)])
    client.force_login(user)
    issue = Issue.objects.get()
    event = issue.events.get()
    for url in (
        reverse("bugsink_issues:issue_export", args=[issue.pk, "md"]),
        reverse("bugsink_issues:event_export", args=[issue.pk, event.pk, "md"]),
    ):
        markdown = client.get(url).content.decode()
        text, tags = _render(markdown)
        # Nothing of the event became HTML or Markdown: only the export's own structure.
        assert tags <= {"h2", "h3", "ul", "li", "p", "strong", "pre", "code"}, tags
        assert " ".join(HOSTILE.split()) in text  # every character shown as sent
        assert "/pay/<script>" in text and "**ana**@example.com" in text and "prod_[x]" in text
    markdown = client.get(reverse("bugsink_issues:issue_export", args=[issue.pk, "md"])).content
    title = markdown.decode().splitlines()[0]
    assert title.startswith("## HostileError") and "<script>" not in title


def test_md_text_escapes_what_markdown_and_html_read():
    assert md_text("a <b> & c") == "a &lt;b&gt; &amp; c"
    assert md_text("*x* _y_ [z](u) #1 1. x | y") == r"\*x\* \_y\_ \[z\]\(u\) \#1 1\. x \| y"
    assert md_text("two\nlines") == "two lines"
    for text in ("# h", "- item", "1) x", "> quote", "```", "~~~", "<!-- c -->", "&amp;"):
        rendered, tags = _render(f"- {md_text(text)}")
        assert rendered == text and tags == {"ul", "li"}, text


def test_the_issue_list_rows_escape_what_events_and_names_put_in_them(
    client, alice, digest, settings
):
    """The list's rows are written in Python (ui/issue_rows.py), not by the template: each value
    is escaped there, and numbers stay plain where a host separates thousands."""
    user, project = alice
    project.name = 'Shop <b>"one"</b>'
    project.save()
    markup = "<img src=x onerror=alert(1)>"
    digest([spooled(project, python_exception(markup, 'it\'s "quoted" & <b>bold</b>'))])
    issue = Issue.objects.get()
    Issue.objects.filter(pk=issue.pk).update(
        event_count=12345, assigned_team=make_team("<i>ops</i>"), status="resolved"
    )
    settings.USE_THOUSAND_SEPARATOR = True
    client.force_login(user)
    body = client.get(reverse("bugsink_issues:all_issues"), {"status": "all"}).content.decode()
    rows = re.search(r"<tbody>(.*)</tbody>", body, re.S).group(1)
    assert "<img" not in rows and "<b>" not in rows and "<i>" not in rows

    parts = []
    parser = HTMLParser()
    parser.handle_data = parts.append
    parser.feed(rows)
    text = " ".join(parts)
    assert f'{markup}: it\'s "quoted" & <b>bold</b>' in text  # the title, as sent
    assert 'Shop <b>"one"</b>' in text and "→ <i>ops</i>" in text and "resolved" in text
    link = reverse("bugsink_issues:issue", args=[issue.pk])
    assert f'<a href="{link}" class="bsk-title"' in rows
    assert f'value="{issue.pk}"' in rows and ">12345</td>" in rows
