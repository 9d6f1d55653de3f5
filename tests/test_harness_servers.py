"""The harness's servers of a test's own: a redis-server and a PostgreSQL server on free ports
that a test can restart and kill (the scale-out test's faults)."""

import socket

import pytest

from harness.postgres_server import PostgresServer, unavailable_reason
from tests.support.redis import started_redis_server

pytestmark = pytest.mark.e2e


def redis_command(port: int, *words: str) -> bytes:
    request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request.encode())
        return conn.recv(256)


def test_redis_server_restarts_empty_on_its_port_and_can_be_killed():
    redis = started_redis_server()
    try:
        assert redis.url == f"redis://127.0.0.1:{redis.port}/0"
        assert redis_command(redis.port, "SET", "k", "v") == b"+OK\r\n"
        redis.restart()
        assert redis_command(redis.port, "GET", "k") == b"$-1\r\n"  # nothing kept: no persistence
        redis.kill()
        with pytest.raises(OSError):
            redis_command(redis.port, "PING")
        redis.start()
        assert redis_command(redis.port, "PING") == b"+PONG\r\n"
    finally:
        redis.close()


def test_postgres_server_keeps_committed_rows_across_a_restart_and_a_kill():
    if reason := unavailable_reason():
        pytest.skip(reason)
    psycopg = pytest.importorskip("psycopg")
    with PostgresServer() as pg:
        pg.query("CREATE TABLE t (x int)")
        pg.query("INSERT INTO t VALUES (1)")
        pg.restart()
        pg.query("INSERT INTO t VALUES (2)")
        pg.kill()
        with pytest.raises(psycopg.OperationalError):
            pg.query("SELECT 1")
        pg.start()
        assert pg.query("SELECT x FROM t ORDER BY x") == [(1,), (2,)]
