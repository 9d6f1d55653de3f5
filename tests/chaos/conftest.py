import shutil

import pytest

from harness.chaos.run import ChaosRun


@pytest.fixture
def start_chaos(tmp_path, artifacts_dir):
    """start_chaos(rate=..., skew_clock=...): the deployment under a steady background load."""
    runs = []

    def start(**options):
        run = ChaosRun(tmp_path / f"run{len(runs)}", **options)
        runs.append(run)
        run.start()
        run.start_load()
        return run

    yield start
    for run in runs:
        run.close()
        if run.deployment.log_path.exists():
            shutil.copy(run.deployment.log_path, artifacts_dir / run.deployment.log_path.name)
