"""A PostgreSQL server of a test's own (Debian's binaries): initdb in a temporary directory, on a
free loopback port, so that the test may restart or kill it. initdb and postgres refuse to run as
root: as root they run as the `postgres` user (runuser), which owns the directory."""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from harness.processes import free_port, wait_for

ROLE = "bugsink"


def postgres_bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


def unavailable_reason() -> str | None:
    """Why no server of our own can run here; None if it can."""
    if postgres_bin_dir() is None:
        return "PostgreSQL's server binaries are not installed (Debian: postgresql)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser: initdb refuses root"
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user for initdb to run as"
    return None


class PostgresServer:
    """start() (initdb the first time), stop() (fast shutdown), kill() (SIGKILL of the postmaster:
    a crash; the next start recovers from the WAL), restart(); url names the database `bugsink`."""

    def __init__(self, port: int | None = None):
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self.bin = postgres_bin_dir()
        self.port = port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="pg-"))
        self.data = self.directory / "data"
        self.log_path = self.directory / "postgres.log"
        self.proc: subprocess.Popen | None = None
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.directory, "postgres", "postgres")
            os.chmod(self.directory, 0o755)

    @property
    def url(self) -> str:
        return f"postgres://{ROLE}:{ROLE}@127.0.0.1:{self.port}/bugsink"

    def _as_owner(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self._as_root else args

    def start(self, timeout: float = 60.0) -> "PostgresServer":
        fresh = not self.data.exists()
        if fresh:
            subprocess.run(
                self._as_owner(
                    [str(self.bin / "initdb"), "-D", str(self.data), "-U", ROLE, "-A", "trust"]
                    + ["--no-sync", "-E", "UTF8", "--locale", "C"]
                ),
                check=True,
                capture_output=True,
                timeout=120,
            )
        args = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        args += [
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.directory}",
        ]
        # A test's throwaway data: no fsync (the OS keeps what was written: a kill -9 of the server
        # still recovers every commit from the WAL; only a power loss would not).
        args += ["-c", "fsync=off", "-c", "max_connections=200"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self._as_owner(args), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        wait_for(self._accepts, timeout, what=f"PostgreSQL on port {self.port}", interval=0.1)
        if fresh:
            self.query("CREATE DATABASE bugsink", database="postgres")
        return self

    def _accepts(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {self.proc.returncode}: {self.log()}")
        try:
            self.query("SELECT 1", database="postgres")
            return True
        except Exception:
            return False

    def query(self, sql: str, database: str = "bugsink"):
        """One statement on its own connection (autocommit); its rows, or None."""
        import psycopg

        url = f"postgres://{ROLE}@127.0.0.1:{self.port}/{database}"
        with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else None

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, what was committed is kept."""
        self._end(signal.SIGINT, timeout)

    def kill(self) -> None:
        """SIGKILL of the postmaster: its backends notice and exit; the next start recovers."""
        self._end(signal.SIGKILL, 30.0)

    def restart(self) -> "PostgresServer":
        self.stop()
        return self.start()

    def _end(self, sig, timeout: float) -> None:
        pid = self._postmaster_pid()
        if pid is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                if pid:
                    os.kill(pid, signal.SIGKILL)
                self.proc.wait(10)
            self.proc = None
        # The backends of a killed postmaster outlive it for a moment; a new one must not start
        # while they hold the shared memory.
        deadline = time.monotonic() + timeout
        while pid is not None and time.monotonic() < deadline:
            if not any(_is_backend_of(p, self.data) for p in os.listdir("/proc") if p.isdigit()):
                break
            time.sleep(0.1)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        self._end(signal.SIGQUIT, 10.0)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _is_backend_of(pid: str, data: Path) -> bool:
    """A postgres process of this data directory (its backends' command lines do not say so,
    their working directory does)."""
    try:
        return os.readlink(f"/proc/{pid}/cwd") == str(data)
    except OSError:
        return False


def drop_database(admin_url: str, name: str, timeout: float = 5.0) -> None:
    """Drop a database a test or benchmark made, on a server it does not own. A plain DROP, retried
    while sessions close (PostgreSQL stops an autovacuum worker in it by itself), then WITH
    (FORCE) for sessions of our own role still open. FORCE alone failed for an autovacuum worker
    (it must be signalled, which a role without pg_signal_backend may not: seen after a
    benchmark's bulk writes, InsufficientPrivilege)."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        while time.monotonic() < deadline:
            try:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                return
            except psycopg.errors.ObjectInUse:
                time.sleep(0.2)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str):
    """A new database on the server of `admin_url` (a role with CREATEDB): its URL, dropped after."""
    import psycopg

    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        drop_database(admin_url, name)
