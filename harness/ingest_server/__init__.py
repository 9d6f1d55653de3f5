"""A real Gunicorn serving the ingest app alone, with a migrated SQLite database and keys.

`start_server(directory, settings=..., **env)` runs `migrate`, creates the projects of SETUP and
starts Gunicorn on a free port; `env` are the INGEST_TEST_* knobs of harness.ingest_server.settings
(the default settings module; the tests pass their own, which derives from it).
"""

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.processes import ROOT, free_port, start, stop, wait_for_port

SETTINGS = "harness.ingest_server.settings"

# Project 1 with the key the captures carry, and a second project with a hex key.
SETUP = """
from bugsink_ingest.models import Project, ProjectKey
p = Project.objects.create(id=1, name="captures")
ProjectKey.objects.create(project=p, public_key="publickey123")
q = Project.objects.create(id=2, name="second", rate_limit_per_minute=5)
ProjectKey.objects.create(project=q, public_key="2" * 32)
ProjectKey.objects.create(project=q, public_key="3" * 32, is_active=False)
ProjectKey.objects.create(project=p, public_key="4" * 32, rate_limit_per_minute=3)
"""


@dataclass
class Server:
    port: int
    dir: Path
    proc: subprocess.Popen
    env: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def dsn(self, key="publickey123", project=1, prefix="") -> str:
        return f"http://{key}@127.0.0.1:{self.port}{prefix}/{project}"


def server_env(directory: Path, settings: str = SETTINGS, **extra) -> dict:
    """The environment of a process of this server (besides os.environ): settings, its directory."""
    return {
        "DJANGO_SETTINGS_MODULE": settings,
        "INGEST_TEST_DIR": str(directory),
        "PYTHONPATH": str(ROOT),
        # SQLite, whatever the test run's main database is
        "BUGSINK_TEST_POSTGRES": "",
        **{k: str(v) for k, v in extra.items()},
    }


def prepare(directory: Path, settings: str = SETTINGS, **extra) -> dict:
    """Migrate the server's database and create SETUP's projects; the server's environment."""
    env = server_env(directory, settings, **extra)
    for args in (["migrate", "-v0"], ["shell", "-c", SETUP]):
        subprocess.run(
            [sys.executable, "-m", "django", *args],
            env={**os.environ, **env},
            cwd=ROOT,
            check=True,
            timeout=120,
        )
    return env


def start_server(
    directory: Path | None = None, workers=2, settings: str = SETTINGS, **extra
) -> Server:
    directory = Path(directory or tempfile.mkdtemp(prefix="ingest-server-"))
    env = prepare(directory, settings, **extra)
    port = free_port()
    proc = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "5",
            "django.core.wsgi:get_wsgi_application()",
        ],
        env=env,
        log_path=directory / "gunicorn.log",
    )
    try:
        wait_for_port(port, proc, timeout=60)
    except Exception:
        stop(proc)
        raise
    return Server(port, directory, proc, env)


def stop_server(server: Server) -> None:
    stop(server.proc)
