"""kill -9 a Gunicorn worker, the foreman, then both, under load: nothing acknowledged is lost."""

import pytest

from harness.chaos import scenarios
from tests.chaos.books import assert_books_balance, assert_recovered

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


# A killed foreman's claimed batch goes back to the spool after BUGSINK_INGEST_SPOOL_CLAIM_SECONDS
# (default 300 s; `python -m benchmarks.chaos` measures that). Here 10 s, so the test proves within
# CI time that those events come back and nothing acknowledged is lost.
CLAIM_SECONDS = "10"


def test_kills_lose_no_acknowledged_event_and_recover(start_chaos):
    run = start_chaos(rate=50, extra_env={"CHAOS_SPOOL_CLAIM_SECONDS": CLAIM_SECONDS})
    scenarios.kill_web_worker(run)
    scenarios.kill_foreman(run)
    scenarios.kill_worker_and_foreman(run)
    ledger = run.settle()

    worker, foreman, both = run.faults
    assert_recovered(worker, "replaced_in_s", "first_2xx_after_s")
    assert_recovered(foreman, "foreman_restarted_in_s", "digest_caught_up_in_s")
    assert_recovered(both, "foreman_restarted_in_s", "digest_caught_up_in_s", "web_replaced_in_s")
    # the foreman being down never costs an HTTP error: ingest only spools
    assert foreman.answers.get("5xx", 0) == 0 and foreman.answers.get("no answer", 0) == 0
    assert_books_balance(run, ledger)
