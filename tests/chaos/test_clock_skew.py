"""Skewed clocks: SDKs with wrong clocks, and the servers' own clock stepped while they run."""

import pytest

from harness.chaos import scenarios
from harness.faults import libfaketime_library
from tests.chaos.books import assert_books_balance, assert_recovered

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def test_client_clock_skew_is_accepted_or_refused_cleanly(start_chaos):
    run = start_chaos(rate=50)
    scenarios.client_clock_skew(run)
    ledger = run.settle()
    (fault,) = run.faults
    cases = {k: v for k, v in fault.details.items() if k.startswith("timestamp")}
    assert len(cases) == 7, fault.details
    for case, statuses in cases.items():
        assert all(200 <= s < 500 for s in statuses), (case, statuses)
    assert_books_balance(run, ledger, min_acknowledged=10)


@pytest.mark.skipif(
    libfaketime_library() is None, reason="libfaketime missing (pip install libfaketime)"
)
def test_server_clock_steps_lose_nothing(start_chaos):
    run = start_chaos(rate=50, skew_clock=True)
    fault = scenarios.server_clock_jumps(run, hold=2)
    ledger = run.settle()
    assert fault is not None
    assert all(v for k, v in fault.details.items() if k.startswith("acked at")), fault.details
    assert_recovered(fault, "digest_caught_up_in_s")
    assert_books_balance(run, ledger)
