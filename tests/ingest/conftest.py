import pytest

from tests.ingest.server import start_server, stop_server


@pytest.fixture(scope="session")
def ingest_server(tmp_path_factory):
    """One real Gunicorn (2 gthread workers) for the read-only and append-only tests."""
    server = start_server(tmp_path_factory.mktemp("ingest-server"))
    yield server
    stop_server(server)
