"""The reference deployment as a test sees it: `manage.py serve` in a subprocess, on a free port,
with its own data directory, and a logged-in HTTP client for its UI."""

import http.cookiejar
import json
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.support.processes import ROOT, free_port, start, stop, wait_for_port

MANAGE_PY = ROOT / "example_project" / "manage.py"
ADMIN_EMAIL = "e2e@example.com"
ADMIN_PASSWORD = "e2e-password-not-secret"


def wait_for(predicate, timeout=30.0, what="condition", interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Deployment:
    """One data directory; start() and stop() may be called several times (restarts)."""

    def __init__(self, data_dir: Path, env: dict | None = None, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "BUGSINK_DATA_DIR": str(data_dir),
            "BUGSINK_ADMIN": f"{ADMIN_EMAIL}:{ADMIN_PASSWORD}",
            "WEB_CONCURRENCY": "2",
            "SENTRY_DSN": "",
            # The test runner's settings and data dir must not leak into the deployment.
            "DJANGO_SETTINGS_MODULE": "bugsink_site.settings",
            "BUGSINK_TEST_DATA_DIR": "",
            **(env or {}),
        }
        self.proc = None
        self.log_path = data_dir / "serve.log"
        self.starts = 0

    # Processes.
    def start(self, wait_ready=False, timeout=60.0):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self._log_mark = self.log().count("[serve] listening on")
        self.proc = start(
            [sys.executable, str(MANAGE_PY), "serve", "--bind", f"127.0.0.1:{self.port}"],
            env=self.env,
            cwd=self.data_dir.parent,
            log_path=self.log_path,
        )
        started = time.monotonic()
        wait_for_port(self.port, self.proc, timeout=timeout)
        wait_for(
            lambda: self._gone_check() or self.get_status("/health/live") == 200,
            timeout=timeout,
            what=f"/health/live to answer 200; log:\n{self.log()[-3000:]}",
        )
        self.seconds_to_live = time.monotonic() - started
        # The worker is up once it beats (a SIGTERM before it installed its handlers kills it).
        wait_for(
            lambda: (
                self._gone_check() or self.get_json("/health/ready")[1]["checks"]["worker"]["ok"]
            ),
            timeout=timeout,
            what=f"the worker's first heartbeat; log:\n{self.log()[-3000:]}",
        )
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=60.0):
        wait_for(
            lambda: self._gone_check() or self.get_status("/health/ready") == 200,
            timeout=timeout,
            what=f"/health/ready to answer 200; log:\n{self.log()[-3000:]}",
        )

    def _gone_check(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
        return False

    def stop(self, sig=signal.SIGTERM, timeout=60.0) -> int | None:
        if self.proc is None:
            return None
        code = stop(self.proc, sig=sig, timeout=timeout)
        self.proc = None
        return code

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def pids(self) -> dict:
        return json.loads((self.data_dir / "serve.json").read_text())

    def demo_dsn(self) -> str:
        return (self.data_dir / "self_dsn").read_text().strip()

    def demo_project_id(self) -> int:
        return int(self.demo_dsn().rstrip("/").rsplit("/", 1)[1])

    def manage(self, *args, timeout=120, check=True, env=None):
        """Run a management command against this deployment's data; its stdout (or the result)."""
        import subprocess

        result = subprocess.run(
            [sys.executable, str(MANAGE_PY), *args],
            env={**os.environ, **self.env, "BASE_URL": self.base_url, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if not check:
            return result
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    # HTTP.
    def get_status(self, path) -> int | None:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def get_json(self, path) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def browser(self) -> "UIClient":
        return UIClient(self.base_url)


class UIClient:
    """A cookie-keeping HTTP client that logs in through the login form, as a person would."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path) -> tuple[int, str, str]:
        """(status, final URL path, body)."""
        try:
            with self.opener.open(self.base_url + path, timeout=10) as response:
                return (
                    response.status,
                    urllib.parse.urlsplit(response.url).path,
                    response.read().decode("utf-8", "replace"),
                )
        except urllib.error.HTTPError as exc:
            return exc.code, path, exc.read().decode("utf-8", "replace")

    def status_without_redirect(self, path) -> int:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )
        try:
            with opener.open(self.base_url + path, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def post(self, path, data: dict) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(
            self.base_url + path, data=body, headers={"Referer": self.base_url + path}
        )
        try:
            with self.opener.open(request, timeout=10) as response:
                return (
                    response.status,
                    urllib.parse.urlsplit(response.url).path,
                    response.read().decode("utf-8", "replace"),
                )
        except urllib.error.HTTPError as exc:
            return exc.code, path, exc.read().decode("utf-8", "replace")

    def login(
        self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, login_path="/accounts/login/", next="/"
    ):
        status, _, page = self.get(login_path)
        assert status == 200, page[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "no CSRF token in the login form"
        status, final_path, page = self.post(
            login_path,
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": email,
                "password": password,
                "next": next,
            },
        )
        assert status == 200 and final_path != login_path, f"login failed: {status} {page[:500]}"
        return self


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx itself is the answer
