"""The foreman paused until the spool is full: ingest refuses cleanly, then everything drains."""

import pytest

from harness.chaos import scenarios
from tests.chaos.books import assert_books_balance, assert_recovered

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def test_full_spool_refuses_with_4xx_and_drains(start_chaos):
    run = start_chaos(rate=50)
    scenarios.fill_spool(run, max_seconds=40)
    ledger = run.settle()
    (fault,) = run.faults
    assert fault.details["full_reached"], fault.details
    assert all(400 <= s < 500 for s in fault.details["refused_with"]), fault.details
    assert_recovered(fault, "drained_in_s")
    assert_books_balance(run, ledger)
