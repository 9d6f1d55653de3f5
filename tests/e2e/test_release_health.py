"""What the real sentry-sdk sends besides errors, against the real deployment: sessions become
release health on the Releases page, client reports are counted on the project's settings page,
and transactions are refused so that the SDK stops sending them while errors go on."""

import gzip
import html
import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.deployment import Deployment
from harness.processes import ROOT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

SENDER = ROOT / "tests" / "e2e" / "senders" / "python_health.py"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("health") / "data")
    try:
        yield deployment.start(wait_ready=True)
    finally:
        deployment.stop()


@pytest.fixture(scope="module")
def ui(site):
    return site.browser().login()


def send(dsn, mode, release, environment="production"):
    result = subprocess.run(
        [sys.executable, str(SENDER), dsn, mode, release, environment],
        capture_output=True,
        text=True,
        timeout=90,
    )
    # app-crash ends by an uncaught exception, as the app it plays does.
    assert result.returncode == (1 if mode == "app-crash" else 0), result.stderr[-3000:]
    return result


def item_types(body: bytes) -> list[str]:
    """The item types of an envelope (a parser of its own: the server's skips what it drops)."""
    lines = body.split(b"\n")
    types, i = [], 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        header = json.loads(lines[i])
        types.append(header["type"])
        if "length" in header:
            rest = b"\n".join(lines[i + 1 :])[header["length"] :]
            lines = [b"", *rest.split(b"\n")[1:]]
            i = 1
        else:
            i += 2
    return types


class CountingProxy:
    """Forwards the SDK's requests to the deployment; records each request's item types and
    the answer's X-Sentry-Rate-Limits."""

    def __init__(self, target: str):
        self.seen: list[tuple[list[str], int, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                plain = gzip.decompress(body) if self.headers.get("Content-Encoding") else body
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                request = urllib.request.Request(
                    target + self.path, data=body, headers=headers, method="POST"
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, answer_headers, data = answer.status, answer.headers, answer.read()
                except urllib.error.HTTPError as exc:
                    status, answer_headers, data = exc.code, exc.headers, exc.read()
                limits = answer_headers.get("X-Sentry-Rate-Limits", "")
                proxy.seen.append((item_types(plain), status, limits))
                self.send_response(status)
                if limits:
                    self.send_header("X-Sentry-Rate-Limits", limits)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_the_sdk_stops_sending_transactions_after_the_first_answer(site):
    dsn = site.demo_dsn()
    with CountingProxy(site.base_url) as proxy:
        send(
            dsn.replace(f"127.0.0.1:{site.port}", f"127.0.0.1:{proxy.port}"), "transactions", "t@1"
        )
    with_transactions = [s for s in proxy.seen if "transaction" in s[0]]
    with_errors = [s for s in proxy.seen if "event" in s[0]]
    # Ten rounds of a transaction and an error: the first transaction is answered with a rate
    # limit for its category; the SDK sends none of the nine after it, and every error.
    assert len(with_transactions) == 1, proxy.seen
    types, status, limits = with_transactions[0]
    assert status == 200
    group = next(g for g in limits.split(",") if "transaction" in g)
    seconds, categories, scope, reason = group.strip().split(":")
    assert int(seconds) > 0 and "transaction" in categories.split(";") and "error" not in categories
    assert (scope, reason) == ("project", "not_kept")
    assert len(with_errors) == 10 and all(s[1] == 200 and not s[2] for s in with_errors)


def _row(page: str, version: str) -> str:
    """The Releases page's table row of a version (as the page escapes it; a link to its page)."""
    cell = f'">{html.escape(version)}</a></td>'
    start = page.rindex("<tr>", 0, page.index(cell))
    return page[start : page.index("</tr>", start)]


def _figure(row: str, name: str) -> str:
    found = re.search(rf'<span class="bsk-{name}">([^<]*)</span>', row)
    assert found, (name, row)
    return found.group(1)


def test_release_health_from_sdk_sessions(site, ui):
    dsn = site.demo_dsn()
    mark = uuid.uuid4().hex[:8]
    release = f"shop@1.{mark}"
    hostile = f"<script>alert('{mark}')</script>@2"
    hostile_environment = '"><img src=x onerror=alert(1)>'
    send(dsn, "app-ok", release)  # user u1: one session with an error, exited
    send(dsn, "app-crash", release)  # user u2: one session, crashed
    send(dsn, "wsgi", release)  # three request sessions (aggregates), one crashed
    send(dsn, "app-ok", hostile, hostile_environment)
    path = f"/projects/{site.demo_project_id()}/releases/"

    def shown():
        status, _, page = ui.get(path)
        assert status == 200
        if html.escape(hostile) not in page or html.escape(release) not in page:
            return None
        row = _row(page, release)
        return page if "bsk-sessions" in row and _figure(row, "sessions") == "5" else None

    page = wait_for(shown, 30, what=f"the health of {release} on the Releases page", interval=0.5)
    row = _row(page, release)
    # 5 sessions, 2 crashed; users u1 and u2, u2's session crashed; 5 of the project's 6 sessions.
    assert _figure(row, "crash-free-sessions") == "60.0%"
    assert _figure(row, "crash-free-users") == "50.0%"
    assert _figure(row, "adoption") == "83.3%"
    assert "2 crashed · 0 abnormal · 3 errored · 2 users" in row
    hostile_row = _row(page, hostile)
    assert _figure(hostile_row, "sessions") == "1" and _figure(hostile_row, "adoption") == "16.7%"
    # The hostile names are text, never markup.
    assert "<script>alert(" not in page and "<img src=x" not in page
    assert html.escape(hostile_environment) in hostile_row

    # The release's own page, linked from its row: the same figures.
    link = re.search(r'<td class="mono"><a href="([^"]+)">', row)
    assert link, row
    status, _, detail = ui.get(html.unescape(link.group(1)))
    assert status == 200
    assert f'<h2 class="mono bsk-release-version">{html.escape(release)}</h2>' in detail
    assert (
        '<td class="bsk-sessions">5</td>' in detail and '<td class="bsk-crashed">2</td>' in detail
    )
    assert '<td class="bsk-crash-free-users">50.0%</td>' in detail
    assert '<td class="bsk-adoption">83.3%</td>' in detail


def test_client_reports_are_counted_on_the_settings_page(site, ui):
    send(site.demo_dsn(), "dropped", "r@1")
    path = f"/projects/{site.demo_project_id()}/settings/"

    def shown():
        status, _, page = ui.get(path)
        assert status == 200
        table = page[page.index("bsk-client-reports") :]
        found = re.search(
            r'<td class="mono">error</td><td class="mono">before_send</td><td>(\d+)</td>', table
        )
        return found and int(found.group(1)) >= 2

    wait_for(shown, 30, what="the client report on the settings page", interval=0.5)
