"""The attachments and feedback in the UI (test client): the event's Attachments tab, the preview
page, the download (streamed, opaque, a safe filename), images only for safe raster types, the
issue's Feedback tab and the project's Feedback page; another team's user gets 404 on each; an
attachment sent on its own joins its stored event; the per-project attachment quota."""

import pytest
from django.test import override_settings
from django.urls import reverse

from bugsink_issues.digest.attachments import ATTACHMENT_CHUNK
from bugsink_issues.models import Event, EventAttachment, UserFeedback
from tests.factories import (
    SpooledAttachment,
    make_project,
    make_team,
    make_user,
    python_exception,
    spooled,
)

pytestmark = pytest.mark.django_db

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def world(digest):
    alice, bob = make_user("alice"), make_user("bob")
    project = make_project("Alpha", team=make_team("A", admins=[alice]))
    make_project("Beta", team=make_team("B", admins=[bob]))
    event_id = "ab" * 16
    items = (
        SpooledAttachment.from_bytes(
            HOSTILE + ".txt", "text/html", "event.attachment", HOSTILE.encode()
        ),
        SpooledAttachment.from_bytes("../../etc/shot.png", "image/png", "event.attachment", PNG),
        SpooledAttachment.from_bytes("logo.svg", "image/svg+xml", "event.attachment", SVG),
        SpooledAttachment.from_bytes(
            "big.log", "text/plain", "event.attachment", b"x" * (ATTACHMENT_CHUNK + 5)
        ),
    )
    digest([spooled(project, python_exception(), event_id=event_id, attachments=items)])
    digest(
        [
            spooled(
                project,
                {"event_id": event_id, "name": HOSTILE, "email": "a@b.c", "comments": HOSTILE},
                kind="user_report",
            )
        ]
    )
    event = Event.objects.get()
    by_name = {a.filename: a for a in EventAttachment.objects.all()}
    return {"alice": alice, "bob": bob, "project": project, "event": event, "by_name": by_name}


def url(name, event, attachment):
    return reverse(f"bugsink_issues:{name}", args=[event.issue_id, event.pk, attachment.pk])


def test_the_attachments_tab_lists_them_escaped(client, world):
    client.force_login(world["alice"])
    event = world["event"]
    page = reverse("bugsink_issues:event", args=[event.issue_id, event.pk]) + "?tab=attachments"
    body = client.get(page).content.decode()
    assert "<script>window" not in body and "<img src=x" not in body
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in body
    for attachment in world["by_name"].values():
        assert url("attachment_download", event, attachment) in body


def test_the_download_is_streamed_opaque_and_safely_named(client, world):
    client.force_login(world["alice"])
    hostile = world["by_name"][HOSTILE + ".txt"]
    response = client.get(url("attachment_download", world["event"], hostile))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/octet-stream"  # not the text/html it claimed
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "<" not in disposition and '"' not in disposition.split("filename", 1)[1][2:-1]
    assert b"".join(response.streaming_content) == HOSTILE.encode()
    dotted = world["by_name"]["../../etc/shot.png"]
    response = client.get(url("attachment_download", world["event"], dotted))
    assert response["Content-Disposition"] == 'attachment; filename="shot.png"'


def test_a_large_download_comes_a_chunk_at_a_time(client, world):
    client.force_login(world["alice"])
    big = world["by_name"]["big.log"]
    response = client.get(url("attachment_download", world["event"], big))
    pieces = list(response.streaming_content)
    assert [len(p) for p in pieces] == [ATTACHMENT_CHUNK, 5]
    assert response["Content-Length"] == str(ATTACHMENT_CHUNK + 5)


def test_text_is_previewed_escaped_and_truncated(client, world):
    client.force_login(world["alice"])
    body = client.get(url("attachment", world["event"], world["by_name"][HOSTILE + ".txt"]))
    text = body.content.decode()
    assert "<script>window" not in text and "&lt;script&gt;window.__pwned=1" in text
    big = client.get(url("attachment", world["event"], world["by_name"]["big.log"]))
    big_text = big.content.decode()
    assert "download the attachment for all of it" in big_text
    assert "x" * (64 * 1024) in big_text and "x" * (64 * 1024 + 1) not in big_text


def test_only_safe_raster_images_are_served_inline(client, world):
    client.force_login(world["alice"])
    png = world["by_name"]["../../etc/shot.png"]
    preview = client.get(url("attachment", world["event"], png)).content.decode()
    assert f'<img src="{url("attachment_image", world["event"], png)}"' in preview
    response = client.get(url("attachment_image", world["event"], png))
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline;")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PNG
    svg = world["by_name"]["logo.svg"]
    assert client.get(url("attachment_image", world["event"], svg)).status_code == 404
    svg_page = client.get(url("attachment", world["event"], svg)).content.decode()
    assert "<img" not in svg_page.split("bsk-main", 1)[-1] and "<svg" not in svg_page
    assert "&lt;svg" in svg_page  # shown as escaped text, as its bytes are


def test_feedback_on_the_issue_tab_and_the_project_page_escaped(client, world):
    client.force_login(world["alice"])
    event = world["event"]
    pages = [
        reverse("bugsink_issues:issue", args=[event.issue_id]) + "?tab=feedback",
        reverse("bugsink_issues:project_feedback", args=[world["project"].pk]),
    ]
    for page in pages:
        body = client.get(page).content.decode()
        assert "<script>window" not in body and "<img src=x" not in body, page
        assert body.count("&lt;script&gt;window.__pwned=1&lt;/script&gt;") >= 2, page
        assert "a@b.c" in body
    project_page = client.get(pages[1]).content.decode()
    assert reverse("bugsink_issues:issue", args=[event.issue_id]) + "?tab=feedback" in project_page


def test_another_team_gets_404_everywhere(client, world):
    client.force_login(world["bob"])
    event = world["event"]
    attachment = world["by_name"]["../../etc/shot.png"]
    for name in ("attachment", "attachment_download", "attachment_image"):
        assert client.get(url(name, event, attachment)).status_code == 404, name
    assert client.get(reverse("bugsink_issues:issue", args=[event.issue_id])).status_code == 404
    page = reverse("bugsink_issues:project_feedback", args=[world["project"].pk])
    assert client.get(page).status_code == 404


def test_an_attachment_of_another_event_is_404(client, world, digest):
    digest([spooled(world["project"], python_exception("KeyError", "other"))])
    other = Event.objects.exclude(pk=world["event"].pk).get()
    client.force_login(world["alice"])
    attachment = world["by_name"]["big.log"]
    assert client.get(url("attachment_download", other, attachment)).status_code == 404


def test_an_attachment_sent_alone_joins_its_stored_event(world, digest):
    event = world["event"]
    alone = SpooledAttachment.from_bytes("later.txt", "text/plain", "event.attachment", b"later")
    lost = SpooledAttachment.from_bytes("lost.txt", "text/plain", "event.attachment", b"lost")
    digest(
        [
            spooled(
                world["project"],
                b"",
                event_id=event.event_id,
                kind="attachment",
                attachments=(alone,),
            ),
            spooled(
                world["project"], b"", event_id="cd" * 16, kind="attachment", attachments=(lost,)
            ),
        ]
    )
    assert event.attachments.filter(filename="later.txt", size=5).exists()
    assert not EventAttachment.objects.filter(filename="lost.txt").exists()
    assert Event.objects.count() == 1  # an attachment alone is not an event


def test_an_attachment_alone_and_its_event_in_one_batch(project, digest):
    event_id = "ef" * 16
    item = SpooledAttachment.from_bytes("same.txt", "text/plain", "event.attachment", b"same")
    digest(
        [
            spooled(project, python_exception(), event_id=event_id),
            spooled(project, b"", event_id=event_id, kind="attachment", attachments=(item,)),
        ]
    )
    assert Event.objects.get(event_id=event_id).attachments.get().filename == "same.txt"


@override_settings(BUGSINK_ISSUES_ATTACHMENT_QUOTA_PER_PROJECT=10)
def test_the_project_quota_refuses_attachments_beyond_it_and_says_so(project, digest):
    fits = SpooledAttachment.from_bytes("fits.txt", "", "event.attachment", b"123456")
    over = SpooledAttachment.from_bytes("over.txt", "", "event.attachment", b"12345")
    digest([spooled(project, python_exception(), attachments=(fits, over))])
    event = Event.objects.get()
    assert [a.filename for a in event.attachments.all()] == ["fits.txt"]
    assert any(
        p["path"] == "attachments.over.txt" and "quota" in p["problem"] for p in event.problems
    )
    digest([spooled(project, python_exception(), attachments=(over,))])  # 6 of 10 used already
    assert EventAttachment.objects.count() == 1


def test_a_user_report_links_to_its_event_and_issue(world):
    feedback = UserFeedback.objects.get()
    assert feedback.event_id == world["event"].pk
    assert feedback.issue_id == world["event"].issue_id and feedback.name == HOSTILE
