"""Every documented setting, honoured where it applies: set as SNAPPEA_<NAME>, and where it is a
per-backend option, through TASKS[alias]["OPTIONS"] too (which then wins for that backend)."""

import pytest

from tests.snappea import tasks
from tests.snappea.conftest import wait_for


@pytest.fixture
def results_through_options(settings):
    settings.TASKS = {"default": {**settings.TASKS["default"], "OPTIONS": {"RESULTS": True}}}


def test_results_through_options_reach_the_foreman(queue_dir, results_through_options):
    """OPTIONS["RESULTS"] alone (SNAPPEA_RESULTS left off): the foreman keeps the result too."""
    added = tasks.add.enqueue(2, 3)
    queue_dir.start_foreman(options={"RESULTS": True})
    result = wait_for(
        lambda: (r := tasks.add.get_result(added.id)).is_finished and r, what="the result"
    )
    assert result.status == "SUCCESSFUL"
    assert result.return_value == 5
