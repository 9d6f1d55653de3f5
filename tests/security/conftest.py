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
