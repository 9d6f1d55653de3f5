"""Rate limits per key, per project and installation-wide, in fixed one-minute windows.

The counters live in a small SQLite file of their own (WAL, no fsync) shared by all worker
processes on the machine, never in the main DB. To keep the hot path cheap, each process counts in
memory and adds its counts to the shared file at most every SYNC_SECONDS. A request whose events
could bring a limit within a tenth of itself (at least 10 events) is decided in one write
transaction against the shared counts, so the boundary is exact across processes.

Every event a request carries is charged (an envelope of 200 events is 200, not one request): the
first ones that fit are let through, the rest are refused and counted as dropped, per project
(`dropped_count`). Feedback and user reports are charged like events: each becomes a stored row
as an event does, so a flood of them costs the same.

Several hosts share counters on Redis instead (BUGSINK_INGEST_RATE_LIMIT_REDIS_URL, the extra
django-bugsink-ingest[redis]): the same windows, syncs and exact decisions near a limit (a Lua
script), behind the CounterStore protocol. Unreachable, it lets events through (logged) rather
than refusing them all.

The file is BUGSINK_INGEST_RATE_LIMIT_DB, else `ratelimits.sqlite3` in the spool directory, else
(a spool without a directory) a file in the temp dir named after this site's SECRET_KEY: private
to the site (two sites' key and project ids would otherwise count against each other), and one
minute of counts is all a lost file costs.
"""

import logging
import os
import random
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.crypto import salted_hmac

from bugsink_ingest.auth import KeyInfo
from bugsink_ingest.conf import ingest_settings

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
SYNC_SECONDS = 0.1
_lock = threading.Lock()


@dataclass(frozen=True)
class Limited:
    scope: str  # "key" | "project" | "organization" (installation-wide, Sentry's word)
    retry_after: int


@dataclass(frozen=True)
class Charge:
    """What the limits let through of a request's events: the first `allowed` of them; `limited`
    is the limit that held the others back (None when all may be stored)."""

    allowed: int
    limited: Limited | None


def _site() -> str:
    """This site's name for its counters (from SECRET_KEY): two sites never share them."""
    site = salted_hmac(
        "bugsink_ingest.ratelimit", "counters", secret=settings.SECRET_KEY, algorithm="sha256"
    )
    return site.hexdigest()[:16]


def db_path() -> Path:
    if ingest_settings.RATE_LIMIT_DB:
        return Path(ingest_settings.RATE_LIMIT_DB)
    if ingest_settings.SPOOL_DIR:
        return Path(ingest_settings.SPOOL_DIR) / "ratelimits.sqlite3"
    return Path(tempfile.gettempdir()) / f"bugsink-ratelimits-{_site()}.sqlite3"


class CounterStore(Protocol):
    """Where the processes' counts meet: per window, a count per name ("k12", "p3", "global",
    "dropped:p3"). Both steps are atomic, so processes (or hosts) deciding at once never
    overshoot a limit."""

    def add_and_read(self, window: int, adds: dict[str, int], names: set[str]) -> dict[str, int]:
        """Add `adds` to the window's counts; return the counts of `names` (absent: 0)."""
        ...

    def reserve(
        self, window: int, limits: list[tuple[str, int]], n: int, adds: dict[str, int]
    ) -> tuple[int, dict[str, int]]:
        """In one atomic step: add `adds`, then charge as many of n events to every (name,
        limit) as all have room for; (that number, the limits' counts after)."""
        ...

    def read(self, window: int, name: str) -> int: ...

    def close(self) -> None:
        """Let go of the connection (the store is replaced when its settings change)."""
        ...


class StoreDown(Exception):
    """The shared store cannot be reached (a network store): the limits are not enforced
    meanwhile, rather than every event refused; the counts are added once it is back."""


class SQLiteCounterStore:
    """The default: a small SQLite file (WAL, no fsync) shared by the processes of one machine."""

    def __init__(self, path: str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        # Processes opening a new file at once race to switch it to WAL, and SQLite answers the
        # loser "database is locked" at once, not after the busy timeout: try again briefly.
        for attempt in range(50):
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 49:
                    self.conn.close()
                    raise
                time.sleep(0.02 + random.random() * 0.03)
        self.conn.execute("PRAGMA synchronous=OFF")  # counters, not data
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS counters (scope TEXT, window INTEGER, n INTEGER, "
            "PRIMARY KEY (scope, window)) WITHOUT ROWID"
        )

    def close(self) -> None:
        self.conn.close()

    def _add(self, window: int, adds: dict[str, int]) -> None:
        self.conn.executemany(
            "INSERT INTO counters VALUES (?, ?, ?) "
            "ON CONFLICT(scope, window) DO UPDATE SET n = n + excluded.n",
            [(name, window, n) for name, n in adds.items() if n],
        )

    def _read(self, window: int, names: Iterable[str]) -> dict[str, int]:
        names = list(names)
        marks = ",".join("?" * len(names))
        rows = self.conn.execute(
            f"SELECT scope, n FROM counters WHERE window = ? AND scope IN ({marks})",
            (window, *names),
        ).fetchall()
        return {name: 0 for name in names} | dict(rows)

    def add_and_read(self, window: int, adds: dict[str, int], names: set[str]) -> dict[str, int]:
        with self._write():
            self._add(window, adds)
            counts = self._read(window, names)
            if random.random() < 0.01:
                self.conn.execute("DELETE FROM counters WHERE window < ?", (window - 1,))
        return counts

    def reserve(
        self, window: int, limits: list[tuple[str, int]], n: int, adds: dict[str, int]
    ) -> tuple[int, dict[str, int]]:
        names = [name for name, _ in limits]
        with self._write():
            self._add(window, adds)
            counts = self._read(window, names)
            allowed = max(0, min(n, *(limit - counts[name] for name, limit in limits)))
            self._add(window, dict.fromkeys(names, allowed))
        return allowed, {name: counts[name] + allowed for name in names}

    def read(self, window: int, name: str) -> int:
        return self._read(window, [name])[name]

    @contextmanager
    def _write(self) -> Iterator[None]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


# KEYS: the limits' counters first (ARGV[2] of them), then the others to add to. ARGV: n, the
# number of limits, the keys' lifetime, each key's add, each limit. Returns the number let
# through, then the limits' counts after. A script runs alone on the server: one atomic step.
_RESERVE = """
local n, nl, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local room = n
for i = 1, nl do
  local left = tonumber(ARGV[3 + #KEYS + i])
    - (tonumber(redis.call('GET', KEYS[i]) or '0') + tonumber(ARGV[3 + i]))
  if left < room then room = left end
end
if room < 0 then room = 0 end
local out = {room}
for i = 1, #KEYS do
  local add = tonumber(ARGV[3 + i])
  if i <= nl then add = add + room end
  local v
  if add ~= 0 then
    v = redis.call('INCRBY', KEYS[i], add)
    redis.call('EXPIRE', KEYS[i], ttl)
  else
    v = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
  if i <= nl then out[#out + 1] = v end
end
return out
"""


class RedisCounterStore:
    """Counters on a Redis server shared by every host (BUGSINK_INGEST_RATE_LIMIT_REDIS_URL): with
    a file per machine, three hosts would let three times a limit through. Keys expire two
    windows after their last change; they are named after this site's SECRET_KEY, so two sites
    on one Redis count apart."""

    def __init__(self, url: str, site: str):
        import redis  # the optional extra django-bugsink-ingest[redis]; only needed here

        self.errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = f"bugsink-ratelimit:{site}"
        self.script = self.client.register_script(_RESERVE)

    def close(self) -> None:
        self.client.close()

    def _key(self, window: int, name: str) -> str:
        # The window as the hash tag: one script's keys are in one slot on a Redis Cluster.
        return f"{self.prefix}:{{{window}}}:{name}"

    def add_and_read(self, window: int, adds: dict[str, int], names: set[str]) -> dict[str, int]:
        wanted = sorted(names)
        try:
            pipe = self.client.pipeline(transaction=True)  # MULTI: adds and reads in one step
            for name, n in adds.items():
                if n:
                    pipe.incrby(self._key(window, name), n)
                    pipe.expire(self._key(window, name), 2 * WINDOW_SECONDS)
            if wanted:
                pipe.mget([self._key(window, name) for name in wanted])
            replies = pipe.execute()
        except self.errors as e:
            raise StoreDown(e) from e
        values = replies[-1] if wanted else []
        return {name: int(v or 0) for name, v in zip(wanted, values, strict=True)}

    def reserve(
        self, window: int, limits: list[tuple[str, int]], n: int, adds: dict[str, int]
    ) -> tuple[int, dict[str, int]]:
        names = [name for name, _ in limits]
        others = [name for name in adds if name not in names]
        keys = [self._key(window, name) for name in names + others]
        argv = [n, len(names), 2 * WINDOW_SECONDS]
        argv += [adds.get(name, 0) for name in names + others]
        argv += [limit for _, limit in limits]
        try:
            reply = self.script(keys=keys, args=argv)
        except self.errors as e:
            raise StoreDown(e) from e
        return int(reply[0]), {name: int(v) for name, v in zip(names, reply[1:], strict=True)}

    def read(self, window: int, name: str) -> int:
        try:
            return int(self.client.get(self._key(window, name)) or 0)
        except self.errors as e:
            raise StoreDown(e) from e


def make_store() -> CounterStore:
    """The configured store: Redis if BUGSINK_INGEST_RATE_LIMIT_REDIS_URL is set, else the file."""
    url = ingest_settings.RATE_LIMIT_REDIS_URL
    if url:
        return RedisCounterStore(url, _site())
    return SQLiteCounterStore(str(db_path()))


class _Counters:
    """One process's view: shared counts as of the last sync, plus its own unsynced counts."""

    def __init__(self, store: CounterStore, where: tuple[object, ...]):
        # where: the settings the store came from (compared per event instead of the store)
        self.store, self.pid, self.where = store, os.getpid(), where
        self.window = -1
        self.shared: dict[str, int] = {}
        self.pending: dict[str, int] = {}
        self.synced_at = 0.0
        self.down_logged_at = 0.0

    def sync(self, names: Iterable[str], now: float) -> None:
        wanted = set(names) | set(self.pending)
        try:
            counts = self.store.add_and_read(self.window, self.pending, wanted)
        except StoreDown as e:
            self._down(e, now, names)
            return
        self.shared = counts
        self.pending = {}
        self.synced_at = now

    def reserve(self, limits: list[tuple[str, str, int]], n: int, now: float) -> int:
        """Charge up to n events to the shared counts in one atomic step (adding this process's
        pending counts); returns how many fit under every limit."""
        try:
            allowed, counts = self.store.reserve(
                self.window, [(name, limit) for name, _, limit in limits], n, self.pending
            )
        except StoreDown as e:
            self._down(e, now, [name for name, _, _ in limits])
            for name, _, _ in limits:
                self.pending[name] = self.pending.get(name, 0) + n
            return n
        self.shared.update(counts)
        self.pending = {}
        self.synced_at = now
        return allowed

    def _down(self, error: StoreDown, now: float, names: Iterable[str]) -> None:
        # Tried again after SYNC_SECONDS, not on every event; the pending counts wait meanwhile.
        self.synced_at = now
        for name in names:
            self.shared.setdefault(name, 0)
        if now - self.down_logged_at > WINDOW_SECONDS:
            self.down_logged_at = now
            logger.error("rate-limit counters unreachable, limits not enforced: %s", error.args[0])


_counters: _Counters | None = None


def _get_counters() -> _Counters:
    global _counters
    # The store is only remade when a setting it depends on changed (Path() costs per event).
    where = (
        ingest_settings.RATE_LIMIT_REDIS_URL,
        ingest_settings.RATE_LIMIT_DB,
        ingest_settings.SPOOL_DIR,
        settings.SECRET_KEY,
    )
    if _counters is None or _counters.where != where or _counters.pid != os.getpid():
        if _counters is not None and _counters.pid == os.getpid():
            _counters.store.close()  # a forked child leaves its parent's connection alone
        _counters = _Counters(make_store(), where)
    return _counters


def check_and_count(key: KeyInfo, n: int = 1) -> Charge:
    """Charge up to n events to every limit that applies: as many as all of them have room for
    (the first ones of the request), the rest refused and counted as dropped."""
    project_limit = key.project_limit or ingest_settings.PROJECT_RATE_LIMIT_PER_MINUTE
    candidates = [
        (f"k{key.key_id}", "key", key.key_limit),
        (f"p{key.project_id}", "project", project_limit),
        ("global", "organization", ingest_settings.RATE_LIMIT_PER_MINUTE),
    ]
    limits = [(name, scope, limit) for name, scope, limit in candidates if limit]
    if not limits or n <= 0:
        return Charge(n, None)
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    names = [name for name, _, _ in limits]
    with _lock:
        c = _get_counters()
        if window != c.window:
            c.window, c.shared, c.pending, c.synced_at = window, {}, {}, 0.0
        due = now - c.synced_at > SYNC_SECONDS or any(name not in c.shared for name in names)
        if due:
            c.sync(names, now)
        near = any(limit - _total(c, name) - n <= max(10, limit // 10) for name, _, limit in limits)
        if near:
            # Close to a limit (or this request could cross it): decide against the shared
            # counts in one write transaction, so processes deciding at once never overshoot.
            allowed = c.reserve(limits, n, now)
        else:
            allowed = n
            for name in names:
                c.pending[name] = c.pending.get(name, 0) + n
        if allowed < n:
            dropped = f"dropped:p{key.project_id}"
            c.pending[dropped] = c.pending.get(dropped, 0) + n - allowed
            c.sync(names, now)  # at once: what was dropped is counted where everyone sees it
    if allowed == n:
        return Charge(n, None)
    _, scope, _ = min(limits, key=lambda entry: entry[2] - _total(c, entry[0]))
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    return Charge(allowed, Limited(scope, retry_after))


def dropped_count(project_id: int) -> int:
    """Events of the project refused by a limit in the current window (all processes, as of the
    last sync of each)."""
    counters = _get_counters()
    window = int(time.time() // WINDOW_SECONDS)
    try:
        return counters.store.read(window, f"dropped:p{project_id}")
    except StoreDown:
        return 0


def _total(c: _Counters, name: str) -> int:
    return c.shared.get(name, 0) + c.pending.get(name, 0)
