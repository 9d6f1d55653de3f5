"""Rate-limit counters shared by hosts on a real redis-server (BUGSINK_INGEST_RATE_LIMIT_REDIS_URL),
and the per-machine file that stays the default.

Each "host" is a process of its own (tests/ingest/ratelimit_host.py) charging one event at a
time, all starting at the same moment: on one Redis a limit lets its events through once across
them, exactly; with a file per machine, once per machine (what the Redis counters are for).
"""

import subprocess
import sys
import time

import pytest

from harness.processes import ROOT, free_port
from tests.support.redis import started_redis_server

pytestmark = pytest.mark.e2e
LIMIT = 20
TRIES = 60
# Between syncs (SYNC_SECONDS) a host counts alone; the exact decision starts a tenth of the limit
# (at least 10 events) before it. At one event per 20 ms, what the other host adds unseen stays
# well inside that margin: the limit holds exactly, as it does for the processes of one machine.
PACE = 0.02


@pytest.fixture
def redis_url():
    """A redis-server of this test's own, on a free port, no persistence."""
    with started_redis_server() as server:
        yield server.url


def fresh_window(margin=15.0):
    """Wait for the next one-minute window if this one ends within `margin` seconds."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.2)


def run_hosts(targets):
    """Start one host process per target at the same moment; [(allowed, dropped seen)] each."""
    fresh_window()
    start = time.time() + 3  # the interpreters start meanwhile
    hosts = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.ingest.ratelimit_host",
                target,
                str(start),
                str(LIMIT),
                str(TRIES),
                str(PACE),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for target in targets
    ]
    results = []
    for host in hosts:
        out, _ = host.communicate(timeout=60)
        assert host.returncode == 0
        allowed, dropped = out.split()
        results.append((int(allowed), int(dropped)))
    return results


def test_two_hosts_on_one_redis_let_the_limit_through_once(redis_url):
    results = run_hosts([redis_url, redis_url])
    assert sum(allowed for allowed, _ in results) == LIMIT
    # Every refusal is synced at once: each host, done, sees both hosts' drops.
    assert max(dropped for _, dropped in results) == 2 * TRIES - LIMIT
    assert all(allowed > 0 for allowed, _ in results)  # both charged while the other did


def test_hosts_with_a_file_each_let_it_through_once_per_host(tmp_path):
    results = run_hosts([str(tmp_path / "a.sqlite3"), str(tmp_path / "b.sqlite3")])
    assert [allowed for allowed, _ in results] == [LIMIT, LIMIT]
    # Two processes of one machine (one file) count together, as before.
    shared = str(tmp_path / "one.sqlite3")
    assert sum(allowed for allowed, _ in run_hosts([shared, shared])) == LIMIT


@pytest.mark.django_db
def test_an_unreachable_redis_lets_events_through_and_says_so(settings, caplog):
    from bugsink_ingest import ratelimit
    from bugsink_ingest.auth import KeyInfo

    settings.BUGSINK_INGEST_RATE_LIMIT_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    key = KeyInfo(
        key_id=1, public_key="k", project_id=9, is_active=True, key_limit=None, project_limit=5
    )
    charged = [ratelimit.check_and_count(key, 1) for _ in range(10)]
    # Refusing every event while the counters are away would lose them: they go through.
    assert [c.allowed for c in charged] == [1] * 10
    errors = [r for r in caplog.records if "rate-limit counters unreachable" in r.getMessage()]
    assert len(errors) == 1  # once a window, not per event


def test_the_ingest_imports_and_limits_without_the_redis_package(tmp_path):
    code = (
        "import sys; sys.modules['redis'] = None\n"  # as if not installed
        "from tests.ingest.ratelimit_host import main\n"
        f"main({str(tmp_path / 'r.sqlite3')!r}, 0, 3, 5, 0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "2"]
