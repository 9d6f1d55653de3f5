"""What the reference deployment leaves on disk, and where a generated admin password goes.

The data directory holds events (the databases, the spool) and secrets (secret_key, the admin's
password): every file 0600 and every directory 0700, even when `serve` is started with umask 000.
A generated password is printed only to a terminal; a service's output goes to a journal that
others read, so there it is written to a file only the service user can read."""

import os
import pty
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness.deployment import MANAGE_PY
from harness.processes import free_port, stop, wait_for
from tests.security.site import query, send_exception

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

GENERATED_ADMIN = "admin@localhost"


def modes_under(root: Path) -> dict[str, tuple[str, int]]:
    """relative path -> (kind, permission bits) of root and everything under it."""
    found = {}
    for path in [root, *root.rglob("*")]:
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue  # a spool segment digested while we looked
        kind = (
            "dir" if stat.S_ISDIR(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "file"
        )
        found[str(path.relative_to(root))] = (kind, stat.S_IMODE(st.st_mode))
    return found


def private(kind: str, mode: int) -> bool:
    if kind == "dir":
        return mode == 0o700
    if kind == "file":
        return mode == 0o600
    return mode & 0o077 == 0  # a socket (Gunicorn's control socket): nothing for group or others


@pytest.fixture
def careless_site(make_deployment_here):
    """A deployment started with umask 000 and no BUGSINK_ADMIN (its password is generated). Its
    data directory is one level down, so that `serve` creates it (the harness makes the parent)."""
    site = make_deployment_here("careless", env={"BUGSINK_ADMIN": ""})
    state = site.data_dir / "state"
    site.env["BUGSINK_DATA_DIR"] = str(state)
    old = os.umask(0)
    try:
        site.start(wait=False)  # the children inherit the umask at fork
    finally:
        os.umask(old)
    site.wait_ready()
    site.state = state
    return site


def test_every_file_in_the_data_dir_is_private_whatever_the_umask(careless_site):
    state = careless_site.state
    dsn = wait_for(lambda: (state / "self_dsn").is_file() and (state / "self_dsn").read_text())
    send_exception(dsn.strip(), "a private event")  # the spool and the digest write too
    wait_for(
        lambda: query(careless_site, "SELECT id FROM bugsink_issues_event", data_dir=state),
        timeout=60,
        what="the event to be digested",
    )

    found = modes_under(state)
    expected = {
        ".",
        "db.sqlite3",
        "db.sqlite3-wal",
        "db.sqlite3-shm",
        "snappea.sqlite3",
        "snappea.sqlite3-wal",
        "snappea.sqlite3-shm",
        "secret_key",
        "serve.json",
        "self_dsn",
        "admin_password",
        "spool",
        "spool/segments",
    }
    assert expected <= set(found), sorted(found)
    loose = {
        name: (kind, oct(mode)) for name, (kind, mode) in found.items() if not private(kind, mode)
    }
    assert loose == {}, f"not private: {loose}; all: {sorted(found)}"


def test_a_generated_password_goes_to_a_private_file_not_to_the_log(careless_site):
    log = careless_site.log()
    password_file = careless_site.state / "admin_password"
    assert f"Admin created: {GENERATED_ADMIN}; its password is in {password_file}" in log
    text = password_file.read_text()
    password = re.search(r"^password: (\S+)$", text, re.MULTILINE).group(1)
    assert f"login: {GENERATED_ADMIN}" in text
    assert password not in log
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    # It is the admin's password.
    client = careless_site.browser().login(email=GENERATED_ADMIN, password=password)
    status, path, page = client.get("/")
    assert status == 200 and path == "/" and "Demo" in page


def test_on_a_terminal_the_password_is_printed_once_and_not_stored(tmp_path):
    """`nox -s serve` in a terminal, as the README's quick start has it."""
    data_dir = tmp_path / "data"
    port = free_port()
    env = {
        **os.environ,
        "BUGSINK_DATA_DIR": str(data_dir),
        "BUGSINK_ADMIN": "",
        "DJANGO_SETTINGS_MODULE": "bugsink_site.settings",
        "BUGSINK_TEST_DATA_DIR": "",
        "SENTRY_DSN": "",
        "WEB_CONCURRENCY": "1",
        "PYTHONUNBUFFERED": "1",
    }
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(MANAGE_PY), "serve", "--bind", f"127.0.0.1:{port}"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(terminal)
    screen = []

    def read():  # keep draining: a full terminal buffer would block serve's children
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.append(chunk.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: "[serve] listening on" in "".join(screen),
            timeout=90,
            what=f"serve to listen; screen:\n{''.join(screen)[-3000:]}",
        )
    finally:
        stop(proc, timeout=60)
        reader.join(timeout=10)
        os.close(controller)
    shown = "".join(screen)
    match = re.search(rf"Admin created: {re.escape(GENERATED_ADMIN)} / (\S+)", shown)
    assert match, shown[-3000:]
    assert "shown this once" in shown
    assert not (data_dir / "admin_password").exists()
