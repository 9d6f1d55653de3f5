"""Hostile requests against the running server: every answer a clean 2xx/4xx, memory bounded."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import procstats
from harness.chaos.fuzz import (
    FuzzTarget,
    deep_json,
    envelope_with,
    exchange,
    fixed_hostile_requests,
    requests,
    send,
)
from harness.chaos.run import ChaosRun
from harness.loadgen import Connection, build_request

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

# Far above what a healthy worker needs, far below what an unbounded decompression would take.
MAX_PROCESS_RSS_MIB = 600


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    run = ChaosRun(tmp_path_factory.mktemp("fuzz"), skew_clock=False)
    with run:
        target = FuzzTarget(
            run.deployment.port,
            run.deployment.dsn.project_id,
            run.deployment.dsn.public_key,
            run.factory.raw("small", 0)[1],
        )
        yield run, target


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests on every CI run: no flakiness, failures reproduce
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fuzzed_requests_get_clean_answers(served, data):
    _, target = served
    description, head, payload = data.draw(requests(target))
    answer = send(target, head, payload)
    assert answer.clean, f"{description} -> {answer.status or answer.error}"


def test_hostile_cases_get_clean_answers_in_bounded_memory(served):
    run, target = served
    monitor = procstats.TreeMonitor(run.pid, interval=0.05).start()
    answers = []
    for name, data in fixed_hostile_requests(target):
        head, _, body = data.partition(b"\r\n\r\n")
        answers.append((name, send(target, head + b"\r\n\r\n", body)))
    monitor.stop()

    unclean = [(name, a.status or a.error) for name, a in answers if not a.clean]
    assert not unclean, unclean
    by_name = {name: a.status for name, a in answers}
    assert by_name["gzip bomb: 512 MiB of zeros"] == 413, by_name
    assert by_name["21 MiB body, identity"] == 413, by_name
    for role, rss_kib in monitor.peak_rss_by_process.values():
        assert rss_kib / 1024 < MAX_PROCESS_RSS_MIB, (role, rss_kib, monitor.peak_rss_by_process)

    # whether the digest survives what ingest acknowledged: see the test below


def test_deeply_nested_event_does_not_block_the_digest(tmp_path):
    run = ChaosRun(tmp_path, skew_clock=False)
    with run:
        poison = envelope_with(deep_json(50_000))
        head = (
            f"POST {run.deployment.dsn.envelope_path} HTTP/1.1\r\nHost: 127.0.0.1:{run.deployment.port}"
            f"\r\nX-Sentry-Auth: Sentry sentry_key={run.deployment.dsn.public_key}, sentry_version=7"
            f"\r\nContent-Length: {len(poison)}\r\n\r\n"
        ).encode()
        status, error = exchange(run.deployment.port, head + poison)
        assert 200 <= status < 500, error
        event = run.factory.make("small")
        conn = Connection(run.deployment.port)
        try:
            answer, _, _ = conn.request(
                build_request(
                    f"127.0.0.1:{run.deployment.port}",
                    run.deployment.dsn.envelope_path,
                    run.factory.headers(),
                    event.body,
                )
            )
        finally:
            conn.close()
        assert answer == 200
        # an acknowledged event after the hostile one is still digested
        assert run.wait_until_stored({event.event_id}, timeout=20) is not None
