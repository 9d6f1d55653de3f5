import pytest

from harness.deployment import Deployment


@pytest.fixture
def make_deployment(tmp_path):
    """Deployments that are stopped (SIGTERM, then SIGKILL) whatever the test did."""
    made = []

    def make(name="site", **kwargs):
        deployment = Deployment(tmp_path / name / "data", **kwargs)
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.stop(timeout=30)


@pytest.fixture
def deployment(make_deployment):
    return make_deployment().start()
