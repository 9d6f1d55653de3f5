"""`manage.py serve` itself: first run, health, static files, login, supervision, clean stops."""

import fcntl
import json
import os
import signal
import urllib.request
import uuid
from importlib.util import find_spec
from urllib.parse import urlsplit

import pytest

from harness.deployment import ADMIN_EMAIL, StoredEvents
from harness.processes import wait_for
from harness.procstats import parent_pid
from tests.e2e.load import envelope_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

HAS_SPOOL = find_spec("bugsink_ingest.spool") is not None


def pid_alive(pid) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited all the same.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def shared_anonymous_mib(pid) -> float:
    """Of the process's anonymous memory (heap), how much it shares with others: pages of a
    parent's image it has not written to since the fork. A process started afresh shares none."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            name, _, value = line.partition(":")
            if value.split():
                fields[name] = int(value.split()[0])
    return (fields["Anonymous"] - fields["Pss_Anon"]) / 1024


def open_files(pid) -> list[str]:
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            pass
    return found


def listening_socket_inodes(port) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                    inodes.add(fields[9])
    return inodes


def command_line(pid) -> list[str]:
    with open(f"/proc/{pid}/cmdline") as f:
        return [arg for arg in f.read().split("\0") if arg]


def test_first_run_serves_health_static_and_login(make_deployment):
    site = make_deployment().start()
    log = site.log()
    assert f"Admin created: {ADMIN_EMAIL}" in log
    assert "Demo project DSN: http://" in log and f"@127.0.0.1:{site.port}/" in log
    # Said by a thread that watches the port, so it may follow the first answer by a moment.
    wait_for(lambda: "[serve] listening on" in site.log(), timeout=10, what="the listening line")
    assert (site.data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (site.data_dir / "db.sqlite3").exists() and (site.data_dir / "snappea.sqlite3").exists()

    assert site.get_json("/health/live") == (200, {"status": "ok"})
    # The foreman's first heartbeat lands within a second or two of its start.
    status, ready = wait_for(
        lambda: (r := site.get_json("/health/ready"))[1]["checks"]["worker"]["ok"] and r,
        timeout=20,
        what="the foreman's heartbeat in /health/ready",
    )
    assert ready["checks"]["database"] == {"ok": True}
    assert ready["checks"]["worker"]["state"] in ("idle", "running")
    if HAS_SPOOL:
        assert status == 200 and ready["status"] == "ready", ready
        assert ready["checks"]["spool"]["quarantined"] == 0, ready
    else:  # the spool module is not built yet: ready must say so, not pretend
        assert status == 503 and "spool" in ready["checks"]["spool"]["error"]

    # Static files come from the apps' directories with no collectstatic step.
    assert site.get_status("/static/admin/css/base.css") == 200
    assert site.get_status("/static/admin/css/no-such-file.css") == 404

    # Anonymous visitors are sent to the login page (allauth's, in the UI's layout).
    status, path, _ = site.browser().get("/")
    assert status == 200 and path == "/accounts/login/"

    # The admin logs in through the form with the password from BUGSINK_ADMIN, and sees the UI
    # (the demo project) and the Django admin.
    client = site.browser().login(login_path="/accounts/login/", next="/")
    status, path, page = client.get("/")
    assert status == 200 and path == "/" and "Demo" in page
    status, path, page = client.get("/admin/")
    assert status == 200 and path == "/admin/" and "Log out" in page

    # SDK requests take the ingest fast path (wsgi.py: no site middleware), the UI the full stack.
    dsn = urlsplit(site.demo_dsn())
    event_id = uuid.uuid4().hex
    request = urllib.request.Request(
        f"{site.base_url}/api/{site.demo_project_id()}/envelope/",
        data=envelope_for(event_id, "fast path"),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={dsn.username}, sentry_version=7"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200 and json.loads(response.read()) == {"id": event_id}
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Content-Length"]
        assert "X-Frame-Options" not in response.headers  # XFrameOptionsMiddleware skipped
    with urllib.request.urlopen(site.base_url + "/accounts/login/", timeout=10) as response:
        assert response.headers["X-Frame-Options"] == "DENY"

    # No journal other than WAL on the main database (the tuning of docs/ARCHITECTURE.md).
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(site.data_dir / "db.sqlite3")) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sigterm_stops_everything_and_a_restart_keeps_state(make_deployment):
    site = make_deployment().start()
    pids = site.pids()
    secret = (site.data_dir / "secret_key").read_text()
    dsn = site.demo_dsn()

    assert site.stop(signal.SIGTERM) == 0
    log = site.log()
    assert "SIGTERM received, stopping" in log
    assert "[serve] web stopped (0)" in log and "[serve] worker stopped (0)" in log
    assert not any(pid_alive(pid) for pid in pids.values())
    assert site.get_status("/health/live") is None

    site.start()
    assert (site.data_dir / "secret_key").read_text() == secret
    assert site.demo_dsn() == dsn
    assert site.log().count("Admin created") == 1  # the first run only

    # Ctrl-C in a terminal: SIGINT to the foreground group, here just the supervisor's.
    pids = site.pids()
    assert site.stop(signal.SIGINT) == 0
    assert "SIGINT received, stopping" in site.log()
    assert not any(pid_alive(pid) for pid in pids.values())


def test_gunicorn_and_the_foreman_are_forked_from_one_loaded_site(make_deployment):
    site = make_deployment().start()
    pids = site.pids()
    for name in ("web", "worker"):
        assert parent_pid(pids[name]) == pids["supervisor"], name
    # Most of the foreman's and the web's heap is the supervisor's image, shared (a foreman
    # started afresh shares none: see the BUGSINK_SERVE_FORK=0 test below).
    assert shared_anonymous_mib(pids["worker"]) > 20
    assert shared_anonymous_mib(pids["web"]) > 20
    # Each names what it runs, as an exec()ed process would (ps; tools that find the foreman).
    assert command_line(pids["worker"])[-2:] == ["runworker", "runsnappea"]
    assert command_line(pids["web"])[1:3] == ["-m", "gunicorn"]
    # Nothing that must not cross a fork: the image holds no database file open, and the foreman
    # has none of Gunicorn's listening sockets.
    held = open_files(pids["supervisor"])
    assert not [f for f in held if ".sqlite3" in f], held
    listening = {f"socket:[{inode}]" for inode in listening_socket_inodes(site.port)}
    assert listening and not listening & set(open_files(pids["worker"]))
    assert listening & set(open_files(pids["web"]))


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "afresh"])
def test_a_killed_worker_is_restarted(make_deployment, forked):
    site = make_deployment(env={} if forked else {"BUGSINK_SERVE_FORK": "0"}).start()
    old = site.pids()["worker"]
    os.kill(old, signal.SIGKILL)
    new = wait_for(
        lambda: (pid := site.pids().get("worker")) not in (None, old) and pid,
        timeout=15,
        what="the supervisor to start a new worker",
    )
    assert pid_alive(new)
    assert "worker exited with -9; restarting" in site.log()
    wait_for(
        lambda: site.get_json("/health/ready")[1]["checks"]["worker"]["ok"],
        timeout=20,
        what="the new foreman's heartbeat",
    )
    assert site.pids()["web"] and pid_alive(site.pids()["web"])
    # The new foreman is a fresh fork of the same image (or, with BUGSINK_SERVE_FORK=0, a fresh
    # interpreter that shares nothing).
    assert parent_pid(new) == site.pids()["supervisor"]
    if forked:
        assert shared_anonymous_mib(new) > 20
    else:
        assert shared_anonymous_mib(new) < 2

    # It works: an event sent now is digested by it.
    store = StoredEvents(site.data_dir)
    before = store.digested() if store.ready() else 0
    event_id = uuid.uuid4().hex
    request = urllib.request.Request(
        f"{site.base_url}/api/{site.demo_project_id()}/envelope/",
        data=envelope_for(event_id, "after a restart"),
        headers={
            "X-Sentry-Auth": f"Sentry sentry_key={urlsplit(site.demo_dsn()).username}, "
            "sentry_version=7"
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    try:
        digested, _ = store.wait_for(before + 1, 60)
    finally:
        store.close()
    assert digested, site.log()[-3000:]

    # A clean stop: exactly one SIGTERM reached the foreman (a second makes it skip its grace).
    pids = site.pids()
    assert site.stop(signal.SIGTERM) == 0
    log = site.log()
    assert "[serve] worker stopped (0)" in log and "[serve] web stopped (0)" in log
    assert "Second SIGTERM" not in log
    assert log.count("Foreman stopped:") == 1  # the killed one never got to say it
    assert not any(pid_alive(pid) for pid in pids.values())


def test_a_worker_that_keeps_dying_stops_everything(make_deployment):
    site = make_deployment(
        env={"BUGSINK_SERVE_MAX_RESTARTS": "2", "BUGSINK_SERVE_RESTART_BACKOFF": "0.1"}
    ).start()
    web = site.pids()["web"]
    # Hold the foreman lock as another foreman would: every worker the supervisor starts is refused.
    with open(site.data_dir / "snappea.sqlite3.foreman.lock", "a+") as lock:
        os.kill(site.pids()["worker"], signal.SIGKILL)
        fcntl.flock(lock, fcntl.LOCK_EX)
        code = site.proc.wait(60)
    assert code == 1, site.log()[-3000:]
    assert "stopping everything" in site.log()
    wait_for(lambda: not pid_alive(web), timeout=30, what="Gunicorn to stop too")
    assert site.get_status("/health/live") is None


def test_killing_the_supervisor_takes_its_children_down(make_deployment):
    site = make_deployment().start()
    pids = site.pids()
    os.kill(pids["supervisor"], signal.SIGKILL)
    wait_for(
        lambda: not pid_alive(pids["web"]) and not pid_alive(pids["worker"]),
        timeout=45,
        what="Gunicorn and the foreman to exit after their parent died",
    )


def test_a_busy_port_fails_at_once_with_a_clear_message(make_deployment):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        site = make_deployment(port=taken.getsockname()[1])
        result = site.manage("serve", "--bind", f"127.0.0.1:{site.port}", check=False, timeout=60)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{site.port}: Address already in use" in result.stderr
