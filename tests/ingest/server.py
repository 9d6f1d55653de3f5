"""The ingest tests' server: harness.ingest_server with tests.ingest.server_settings (the recording
consumer, the DSN path prefixes). Same names and arguments as the harness's functions."""

from functools import partial

from harness import ingest_server
from harness.ingest_server import Server, stop_server

# test_durability starts a second Gunicorn on the same directory through these names.
from harness.processes import free_port, start, wait_for_port

SETTINGS = "tests.ingest.server_settings"

server_env = partial(ingest_server.server_env, settings=SETTINGS)
prepare = partial(ingest_server.prepare, settings=SETTINGS)
start_server = partial(ingest_server.start_server, settings=SETTINGS)

__all__ = [
    "SETTINGS",
    "Server",
    "free_port",
    "prepare",
    "server_env",
    "start",
    "start_server",
    "stop_server",
    "wait_for_port",
]
