"""Settings of the Gunicorn the ingest tests start: harness.ingest_server's, with the tests' URLs
(DSN path prefixes, the tunnel) and the recording consumer by default."""

import os

from harness.ingest_server.settings import *  # noqa: F403

ROOT_URLCONF = "tests.ingest.server_urls"
BUGSINK_INGEST_CONSUMER = os.environ.get("INGEST_TEST_CONSUMER", "tests.ingest.recorder.record")
