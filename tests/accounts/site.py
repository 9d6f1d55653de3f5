"""The reference deployment for the account tests: started on loopback with its console mail read
back from its log, a client that can speak from any loopback address, and a real OpenID Connect
provider (npm's oidc-provider, tests/js/oidc_provider.mjs)."""

import base64
import email
import email.policy
import functools
import hashlib
import hmac
import html
import http.client
import http.cookiejar
import json
import re
import shutil
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.deployment import Deployment
from harness.processes import ROOT, free_port, start, stop, wait_for

JS_DIR = ROOT / "tests" / "js"
OIDC_PROVIDER_SCRIPT = JS_DIR / "oidc_provider.mjs"
SSO_CALLBACK_PATH = "/accounts/oidc/sso/login/callback/"  # the README names it, provider id "sso"
# The console backend's separator between two messages (django.core.mail.backends.console).
MAIL_SEPARATOR = "-" * 79

WRONG_PASSWORD = "The email address and/or password you specified are not correct."
TOO_MANY_FAILURES = "Too many failed login attempts. Try again later."


def start_site(directory: Path, web_concurrency: int | None = 2, **env) -> Deployment:
    """The reference deployment on a free port; mail goes to its log (the console backend)."""
    site = Deployment(
        directory / "data", env={"EMAIL_HOST": "", **env}, web_concurrency=web_concurrency
    )
    return site.start()


def shell(site: Deployment, code: str) -> str:
    """Python run by `manage.py shell` against the deployment's data; its output."""
    return site.manage("shell", "-c", code)


def create_user(site: Deployment, email_address: str, password: str, **flags) -> None:
    args = ", ".join(f"{k}={v!r}" for k, v in flags.items())
    shell(
        site,
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user({email_address!r}, email={email_address!r}, "
        f"password={password!r}{', ' + args if args else ''})",
    )


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s<>\"']+", self.body)


def mails(site: Deployment) -> list[Mail]:
    """Every message the console backend printed into the deployment's log, in order."""
    found = []
    for chunk in site.log().split(MAIL_SEPARATOR):
        start_at = chunk.find("Content-Type: ")
        if start_at < 0 or "Subject: " not in chunk:
            continue
        message = email.message_from_string(chunk[start_at:], policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
        body = part.get_content() if part is not None else ""
        to = [a.strip() for a in str(message.get("To", "")).split(",") if a.strip()]
        found.append(Mail(to=to, subject=str(message.get("Subject", "")), body=body))
    return found


def wait_for_mail(site: Deployment, to: str, subject: str = "", *, after: int = 0) -> Mail:
    """The first message to `to` (subject containing `subject`) among those after the first
    `after` messages of the log."""

    def found():
        for mail in mails(site)[after:]:
            if to in mail.to and subject in mail.subject:
                return mail
        return None

    return wait_for(found, 30, what=f"a mail to {to} ({subject!r}); log:\n{site.log()[-2000:]}")


class _SourceHTTPHandler(urllib.request.HTTPHandler):
    """Connects from a chosen loopback address (127.0.0.0/8 is all ours): a client per address."""

    def __init__(self, source_ip):
        super().__init__()
        self.source_ip = source_ip

    def http_open(self, req):
        connection = functools.partial(
            http.client.HTTPConnection, source_address=(self.source_ip, 0)
        )
        return self.do_open(connection, req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    url: str  # the final URL's path and query
    body: str
    location: str = ""

    def text(self) -> str:
        """The page's text, unescaped (form errors are HTML-escaped in the page)."""
        return html.unescape(self.body)


class AddressedClient:
    """A cookie-keeping HTTP client of the deployment, connecting from `source_ip`."""

    def __init__(self, site: Deployment, source_ip: str = "127.0.0.1"):
        self.base_url = site.base_url
        self.cookies = http.cookiejar.CookieJar()
        handlers = [_SourceHTTPHandler(source_ip), urllib.request.HTTPCookieProcessor(self.cookies)]
        self.opener = urllib.request.build_opener(*handlers)
        self.raw_opener = urllib.request.build_opener(*handlers, _NoRedirect())

    def request(self, path, data=None, *, follow=True) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=body, headers={"Referer": self.base_url + path}
        )
        opener = self.opener if follow else self.raw_opener
        try:
            with opener.open(request, timeout=30) as response:
                parts = urllib.parse.urlsplit(response.url)
                return Answer(
                    response.status,
                    parts.path + (f"?{parts.query}" if parts.query else ""),
                    response.read().decode("utf-8", "replace"),
                )
        except urllib.error.HTTPError as exc:
            return Answer(
                exc.code,
                path,
                exc.read().decode("utf-8", "replace"),
                exc.headers.get("Location", ""),
            )

    def get(self, path, **kwargs) -> Answer:
        return self.request(path, **kwargs)

    def csrf_token(self, path) -> str:
        page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, f"no CSRF token on {path}: {page.status} {page.body[:300]}"
        return token.group(1)

    def post_form(self, path, data: dict, *, form_path=None, follow=True) -> Answer:
        """POST `data` to `path` with the CSRF token of the form page (`form_path`, default `path`)."""
        token = self.csrf_token(form_path or path)
        return self.request(path, {"csrfmiddlewaretoken": token, **data}, follow=follow)

    def login(self, email_address, password) -> Answer:
        return self.post_form("/accounts/login/", {"login": email_address, "password": password})

    def is_logged_in(self) -> bool:
        return self.get("/", follow=False).status == 200


class OIDCProvider:
    """npm's oidc-provider on a loopback port, with the clients given; `issuer` is its URL."""

    def __init__(self, directory: Path, clients: list[dict]):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / "oidc-provider.log"
        self.clients = clients
        self.proc = None

    def start(self) -> "OIDCProvider":
        node = shutil.which("node")
        if node is None or not (JS_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.skip("node and tests/js/node_modules (npm ci --prefix tests/js) are needed")
        config = json.dumps({"port": self.port, "clients": self.clients})
        self.proc = start(
            [node, str(OIDC_PROVIDER_SCRIPT), config], cwd=JS_DIR, log_path=self.log_path
        )
        wait_for(
            lambda: "listening" in self.log_path.read_text(),
            30,
            what=f"oidc-provider to listen; log:\n{self.log()}",
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


@contextmanager
def oidc_provider(directory: Path, clients: list[dict]):
    provider = OIDCProvider(directory, clients).start()
    try:
        yield provider
    finally:
        provider.stop()


def run_json(site: Deployment, code: str):
    """`code` (printing one JSON document last) run against the deployment's data."""
    return json.loads(shell(site, code).strip().splitlines()[-1])


def totp(secret: str, at: float | None = None, step: int = 30) -> str:
    """RFC 6238 (SHA-1, 6 digits), independent of the server's implementation."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"
