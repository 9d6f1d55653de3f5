"""A long read transaction and a held write lock on the issues database, under load."""

import pytest

from harness.chaos import scenarios
from tests.chaos.books import assert_books_balance, assert_recovered

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def test_long_read_and_write_lock_lose_nothing(start_chaos):
    run = start_chaos(rate=50)
    scenarios.long_read_transaction(run, seconds=4)
    scenarios.write_lock(run, seconds=4)
    ledger = run.settle()

    read, write = run.faults
    # WAL lets the digest write beside an open reader
    assert read.details["stored_while_held"] > 0, read.details
    assert_recovered(read, "digest_caught_up_in_s")
    assert_recovered(write, "digest_caught_up_in_s")
    # ingest never writes the issues database, so a held lock must not refuse events
    for fault in (read, write):
        assert set(fault.answers) <= {"2xx"}, (fault.name, fault.answers)
    assert_books_balance(run, ledger)
