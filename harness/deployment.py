"""The reference deployment in a subprocess: `manage.py serve` on a free loopback port with its own
data directory, as the end-to-end tests and the benchmarks both run it.

`Deployment` starts, stops and restarts it (the data directory stays), tells its DSN, answers HTTP
(`get_status`, `get_json`, `browser()` for a client logged in through the login form) and runs its
management commands. `StoredEvents` reads the issues database (SQLite: read-only, a new connection
per look, so it never pins the WAL; PostgreSQL when the deployment has a DATABASE_URL) to tell how
many and which events were stored.
"""

import http.cookiejar
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from harness.processes import ROOT, free_port, start, stop, wait_for, wait_for_port

MANAGE_PY = ROOT / "example_project" / "manage.py"
ADMIN_EMAIL = "e2e@example.com"
ADMIN_PASSWORD = "e2e-password-not-secret"
DSN_PATTERN = re.compile(r"(https?)://([0-9a-f]{32})(?::[^@\s]*)?@([^/\s]+)(/\S*)?/(\d+)\b")


@dataclass(frozen=True)
class Dsn:
    public_key: str
    project_id: int
    prefix: str

    @property
    def envelope_path(self) -> str:
        return f"{self.prefix}/api/{self.project_id}/envelope/"

    @classmethod
    def find(cls, text: str) -> "Dsn | None":
        """The last DSN in `text`."""
        matches = DSN_PATTERN.findall(text)
        if not matches:
            return None
        _, key, _, prefix, project_id = matches[-1]
        return cls(key, int(project_id), prefix or "")


class Deployment:
    """One data directory; start() and stop() may be called any number of times (restarts).

    env: extra environment for `serve` and `manage()`. web_concurrency: Gunicorn's workers (2, what
    the tests need; None leaves the deployment's own choice, one per CPU, as the benchmarks
    measure). The log is beside the data directory (`data-serve.log`), so that the data
    directory's size is the deployment's alone.
    """

    def __init__(
        self,
        data_dir: Path,
        env: dict | None = None,
        port: int | None = None,
        web_concurrency: int | None = 2,
        serve_args: tuple[str, ...] = (),
    ):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "BUGSINK_DATA_DIR": str(self.data_dir),
            "BUGSINK_ADMIN": f"{ADMIN_EMAIL}:{ADMIN_PASSWORD}",
            "BASE_URL": self.base_url,
            "PYTHONUNBUFFERED": "1",
            # No dogfooding unless asked: its events would be counted with the test's.
            "SENTRY_DSN": "",
            # The test runner's settings and data dir must not leak into the deployment.
            "DJANGO_SETTINGS_MODULE": "bugsink_site.settings",
            "BUGSINK_TEST_DATA_DIR": "",
            **({"WEB_CONCURRENCY": str(web_concurrency)} if web_concurrency else {}),
            **(env or {}),
        }
        self.serve_args = tuple(serve_args)  # e.g. ("--no-worker",): one web host of several
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-serve.log"
        self.starts = 0
        self.started_at = 0.0  # time.monotonic() at the last start
        self.seconds_to_live: float | None = None
        self._dsn: Dsn | None = None

    # --- the process ------------------------------------------------------------------------------

    def start(self, wait_ready=False, timeout=60.0, wait=True) -> "Deployment":
        """Start `serve`; with `wait`, until /health/live answers and the worker has beaten once
        (with `wait_ready`, until /health/ready answers 200). wait=False returns at once, for a
        caller that measures the start itself."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.started_at = time.monotonic()
        self.proc = start(
            [
                *(sys.executable, str(MANAGE_PY), "serve", "--bind", f"127.0.0.1:{self.port}"),
                *self.serve_args,
            ],
            env=self.env,
            cwd=self.data_dir.parent,  # the deployment must not depend on the working directory
            log_path=self.log_path,
        )
        if not wait:
            return self
        wait_for_port(self.port, self.proc, timeout=timeout)
        wait_for(
            lambda: self._gone_check() or self.get_status("/health/live") == 200,
            timeout=timeout,
            what=f"/health/live to answer 200; log:\n{self.log()[-3000:]}",
        )
        self.seconds_to_live = time.monotonic() - self.started_at
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
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise AssertionError(f"serve exited with {code}:\n{self.log()[-4000:]}")
        return False

    def stop(self, sig=signal.SIGTERM, timeout=60.0) -> int | None:
        """Signal the process group, wait up to `timeout`, then SIGKILL; the exit code."""
        if self.proc is None:
            return None
        code = stop(self.proc, sig=sig, timeout=timeout)
        self.proc = None
        return code

    def restart(self, **start_options) -> "Deployment":
        """Stop (SIGTERM) and start again on the same port and data directory."""
        self.stop()
        return self.start(**start_options)

    @property
    def pid(self) -> int:
        """The supervisor's pid: the root of the deployment's process tree."""
        assert self.proc is not None, "not started"
        return self.proc.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def pids(self) -> dict:
        return json.loads((self.data_dir / "serve.json").read_text())

    # --- the demo project's DSN -------------------------------------------------------------------

    def demo_dsn(self) -> str:
        """The demo project's DSN, which `serve` writes to the data directory at its first start."""
        return (self.data_dir / "self_dsn").read_text().strip()

    def demo_project_id(self) -> int:
        return int(self.demo_dsn().rstrip("/").rsplit("/", 1)[1])

    @property
    def dsn(self) -> Dsn:
        if self._dsn is None:
            self._dsn = self.wait_for_dsn()
        return self._dsn

    def wait_for_dsn(self, timeout: float = 120.0) -> Dsn:
        def found():
            self._gone_check()
            try:
                return Dsn.find(self.demo_dsn())
            except FileNotFoundError:
                return None

        self._dsn = wait_for(found, timeout, what=f"the demo DSN; log:\n{self.log()[-3000:]}")
        return self._dsn

    def wait_for_first_200(self, body: bytes, headers: dict, timeout: float = 120.0) -> float:
        """Seconds from the last start to the first 200 for the envelope `body` (with `headers`)."""
        dsn = self.dsn
        request = urllib.request.Request(
            self.base_url + dsn.envelope_path, data=body, headers=headers, method="POST"
        )

        def accepted():
            self._gone_check()
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status == 200
            except OSError:  # refused while starting, or an HTTPError (503 while not ready)
                return False

        wait_for(accepted, timeout, what=f"a 200 from {dsn.envelope_path}", interval=0.02)
        return time.monotonic() - self.started_at

    # --- management commands and HTTP -------------------------------------------------------------

    def manage(self, *args, timeout=120, check=True, env=None):
        """Run a management command against this deployment's data; its stdout (or the result)."""
        result = subprocess.run(
            [sys.executable, str(MANAGE_PY), *args],
            env={**os.environ, **self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if not check:
            return result
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

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

    def disk_bytes(self) -> int:
        return directory_bytes(self.data_dir)


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
                "login": email,  # allauth's form (the deployment's)
                "username": email,  # Django's (a host without one of its own)
                "password": password,
                "next": next,
            },
        )
        # A refused login, or one posted to a page that only redirects to the real form, ends on a
        # login page again.
        logged_in = status == 200 and "login" not in final_path
        assert logged_in, f"login failed: {status} {final_path} {page[:500]}"
        return self


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx itself is the answer


def directory_bytes(path: Path) -> int:
    """Apparent size of every file under path (SQLite files, WAL, spool)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass  # a spool file digested while we walked
    return total


class StoredEvents:
    """The issues app's tables, read straight from its SQLite file or its PostgreSQL database.

    `digested()` counts every event the digest ever took in (the issues' exact event counters), so
    it keeps rising when retention evicts old events; `count()` and `ids()` are what is stored now.
    """

    EVENT_TABLE = "bugsink_issues_event"
    ISSUE_TABLE = "bugsink_issues_issue"

    def __init__(self, data_dir: Path, database_url: str | None = None):
        self.data_dir = Path(data_dir)
        self.db_path: Path | None = None
        self.table = self.EVENT_TABLE
        # The scale-out layout keeps its data in PostgreSQL, not in the data directory.
        self.database_url = database_url or None
        self._pg = None

    @classmethod
    def of(cls, deployment: "Deployment") -> "StoredEvents":
        return cls(deployment.data_dir, deployment.env.get("DATABASE_URL"))

    def _locate(self):
        for path in sorted(self.data_dir.glob("*.sqlite3")):
            try:
                conn = self._connect(path)
                try:
                    found = conn.execute(
                        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (self.table,)
                    ).fetchone()
                finally:
                    conn.close()
            except sqlite3.DatabaseError:
                continue
            if found:
                self.db_path = path
                return

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)

    def ready(self) -> bool:
        if self.database_url:
            return True
        if self.db_path is None:
            self._locate()
        return self.db_path is not None

    @property
    def path(self) -> Path:
        """The issues database file (it must exist by now)."""
        if not self.ready():
            raise FileNotFoundError(f"no SQLite file with {self.table} in {self.data_dir}")
        return self.db_path

    def _query(self, sql: str):
        if self.database_url:
            return self._pg_query(sql)
        if not self.ready():
            return []
        conn = self._connect(self.db_path)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def _pg_query(self, sql: str):
        """One autocommit connection kept open (a poll every 50 ms must not cost a connection
        each); no rows while the tables are not migrated yet, a new connection after an error."""
        import psycopg

        try:
            if self._pg is None or self._pg.closed:
                self._pg = psycopg.connect(self.database_url, autocommit=True, connect_timeout=5)
            return self._pg.execute(sql).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
        except psycopg.OperationalError:
            self.close()
            return []

    def close(self):
        if self._pg is not None:
            self._pg.close()
            self._pg = None

    def database_bytes(self) -> int:
        """PostgreSQL's size of the database (0 for SQLite: its files are in the data directory)."""
        if not self.database_url:
            return 0
        rows = self._query("SELECT pg_database_size(current_database())")
        return int(rows[0][0]) if rows else 0

    def count(self) -> int:
        rows = self._query(f'SELECT count(*) FROM "{self.table}"')
        return int(rows[0][0]) if rows else 0

    def digested(self) -> int:
        # int(): PostgreSQL's sum() is a Decimal
        rows = self._query(f'SELECT coalesce(sum(event_count), 0) FROM "{self.ISSUE_TABLE}"')
        return int(rows[0][0]) if rows else 0

    HEALTH_TABLE = "bugsink_issues_releasehealthbucket"
    CHECK_IN_TABLE = "bugsink_issues_checkin"

    def sessions(self) -> int:
        """Sessions counted into release health so far (every release, environment and hour)."""
        rows = self._query(f'SELECT coalesce(sum(sessions), 0) FROM "{self.HEALTH_TABLE}"')
        return int(rows[0][0]) if rows else 0

    def check_ins(self) -> int:
        rows = self._query(f'SELECT count(*) FROM "{self.CHECK_IN_TABLE}"')
        return int(rows[0][0]) if rows else 0

    def ids(self) -> set[str]:
        rows = self._query(f'SELECT event_id FROM "{self.table}"')
        return {str(r[0]).replace("-", "").lower() for r in rows}

    def wait_for(self, target: int, timeout: float, on_poll=None) -> tuple[bool, float]:
        """Poll until at least `target` events were digested; (reached, monotonic time reached)."""
        deadline = time.monotonic() + timeout
        while True:
            n = self.digested()
            now = time.monotonic()
            if on_poll:
                on_poll(now, n)
            if n >= target:
                return True, now
            if now >= deadline:
                return False, now
            time.sleep(0.05)
