"""A redis-server of the test's own (harness.redis_server): skipped where Debian's redis-server is
not installed, except under CI=true, where .ci/run installs it and a missing one is a failure."""

import os

import pytest

from harness.redis_server import RedisServer, redis_server_binary


def require_redis_server() -> None:
    if redis_server_binary() is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)


def started_redis_server() -> RedisServer:
    require_redis_server()
    return RedisServer().start()
