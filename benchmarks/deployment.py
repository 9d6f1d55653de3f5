"""The reference deployment as a benchmark sees it: start `serve`, find its DSN, count what it stored.

`Deployment` starts `python example_project/manage.py serve --bind 127.0.0.1:PORT` with its own
BUGSINK_DATA_DIR, reads the demo DSN from its output, and measures the time from the start until the
envelope endpoint first answers 200. `StoredEvents` reads the issues database (read-only, a new
connection per look, so it never pins the WAL) to tell how many and which events were stored.
"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.loadgen import Connection, build_request
from benchmarks.payloads import EnvelopeFactory

ROOT = Path(__file__).resolve().parents[1]
DSN_PATTERN = re.compile(r"(https?)://([0-9a-f]{32})(?::[^@\s]*)?@([^/\s]+)(/\S*)?/(\d+)\b")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        matches = DSN_PATTERN.findall(text)
        if not matches:
            return None
        _, key, _, prefix, project_id = matches[-1]
        return cls(key, int(project_id), prefix or "")


class Deployment:
    """One running `serve` (Gunicorn + foreman, supervised) on a free loopback port."""

    # what starts the deployment; a test of the tooling may point it elsewhere
    command = [sys.executable, "example_project/manage.py", "serve"]

    def __init__(self, data_dir: Path, port: int | None = None, extra_env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-serve.log"
        self.dsn: Dsn | None = None
        self.started_at = 0.0

    def start(self) -> "Deployment":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "BUGSINK_DATA_DIR": str(self.data_dir),
            "BASE_URL": f"http://127.0.0.1:{self.port}",
            "PYTHONUNBUFFERED": "1",
            # under pytest, the runner's settings module must not leak into the deployment
            "DJANGO_SETTINGS_MODULE": "bugsink_site.settings",
            "BUGSINK_TEST_DATA_DIR": "",
            **self.extra_env,
        }
        env.pop("SENTRY_DSN", None)  # no dogfooding: it would add its own events to the counts
        self._log = open(self.log_path, "ab")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [*self.command, "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_dsn(self, timeout: float = 120.0) -> Dsn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            dsn = Dsn.find(self.log_text())
            if dsn:
                self.dsn = dsn
                return dsn
            time.sleep(0.02)
        raise TimeoutError(f"no DSN in the output of serve within {timeout}s:\n{self.log_text()}")

    def wait_for_first_200(self, factory: EnvelopeFactory, timeout: float = 120.0) -> float:
        """Seconds from the start of `serve` to the first 200 from the envelope endpoint."""
        dsn = self.dsn or self.wait_for_dsn(timeout)
        event = factory.make("small")
        data = build_request(
            f"127.0.0.1:{self.port}", dsn.envelope_path, factory.headers(), event.body
        )
        deadline = self.started_at + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            conn = Connection(self.port)
            try:
                status, _, body = conn.request(data)
                if status == 200:
                    return time.monotonic() - self.started_at
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.02)
        raise TimeoutError(f"no 200 from {dsn.envelope_path} within {timeout}s")

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"serve exited with {self.proc.returncode}:\n{self.log_text()[-4000:]}"
            )

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def disk_bytes(self) -> int:
        return directory_bytes(self.data_dir)


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
    """The issues app's tables, read straight from its SQLite file.

    `digested()` counts every event the digest ever took in (the issues' exact event counters), so
    it keeps rising when retention evicts old events; `count()` and `ids()` are what is stored now.
    """

    EVENT_TABLE = "bugsink_issues_event"
    ISSUE_TABLE = "bugsink_issues_issue"

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.db_path: Path | None = None
        self.table = self.EVENT_TABLE

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
        if not self.ready():
            return []
        conn = self._connect(self.db_path)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def count(self) -> int:
        rows = self._query(f'SELECT count(*) FROM "{self.table}"')
        return rows[0][0] if rows else 0

    def digested(self) -> int:
        rows = self._query(f'SELECT coalesce(sum(event_count), 0) FROM "{self.ISSUE_TABLE}"')
        return rows[0][0] if rows else 0

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
