import pytest

from tests.security.servers import CaptureServer, DribblingServer


@pytest.fixture
def capture():
    server = CaptureServer()
    yield server
    server.close()


@pytest.fixture
def dribbler():
    server = DribblingServer()
    yield server
    server.close()


@pytest.fixture
def make_deployment_here(tmp_path):
    """Deployments of the reference site, stopped whatever the test did."""
    from harness.deployment import Deployment

    made = []

    def make(name="site", **kwargs):
        deployment = Deployment(tmp_path / name / "data", **kwargs)
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.stop(timeout=30)
