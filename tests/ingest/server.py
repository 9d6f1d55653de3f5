"""A real Gunicorn serving tests.ingest.server_settings, with a migrated SQLite DB and keys."""

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import ROOT, free_port, start, stop, wait_for_port

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


def server_env(directory: Path, **extra) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.ingest.server_settings",
        "INGEST_TEST_DIR": str(directory),
        "PYTHONPATH": str(ROOT),
        **{k: str(v) for k, v in extra.items()},
    }
    env.pop("BUGSINK_TEST_POSTGRES", None)
    return env


def prepare(directory: Path, **extra) -> dict:
    env = server_env(directory, **extra)
    full = {**os.environ, **env}
    full.pop("BUGSINK_TEST_POSTGRES", None)
    for args in (["migrate", "-v0"], ["shell", "-c", SETUP]):
        subprocess.run(
            [sys.executable, "-m", "django", *args], env=full, cwd=ROOT, check=True, timeout=120
        )
    return env


def start_server(directory: Path | None = None, workers=2, **extra) -> Server:
    directory = Path(directory or tempfile.mkdtemp(prefix="ingest-server-"))
    env = prepare(directory, **extra)
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
