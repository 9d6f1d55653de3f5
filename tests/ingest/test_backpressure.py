"""Backpressure's backlog figure: one thread per process refreshes it, the others never wait."""

import pytest
from django.test import override_settings

from bugsink_ingest import intake


@pytest.fixture
def figure():
    saved = list(intake._backlog_checked)
    yield intake._backlog_checked
    intake._backlog_checked[:] = saved


def test_other_threads_use_the_last_figure_while_one_refreshes(figure):
    figure[:] = [0.0, 6]  # stale, and over the cap below
    with intake._backlog_refresh:  # another thread is taking the count
        with override_settings(BUGSINK_INGEST_MAX_BACKLOG=5):
            with pytest.raises(intake.Backpressure):
                intake.check_backpressure()  # no waiting for it, no second count
        assert figure == [0.0, 6]
    with override_settings(BUGSINK_INGEST_MAX_BACKLOG=10**9):
        intake.check_backpressure()  # the lock is free: this call refreshes
    assert figure[0] > 0.0
