import json
import os
import socket
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from bugsink_site.bootstrap import ensure_admin, ensure_demo_project, save_password
from bugsink_site.dogfood import SELF_DSN_FILE
from bugsink_site.env import env_bool, env_int

EXAMPLE_PROJECT_DIR = Path(__file__).resolve().parents[3]
MANAGE_PY = EXAMPLE_PROJECT_DIR / "manage.py"
GUNICORN_CONF = EXAMPLE_PROJECT_DIR / "gunicorn_conf.py"


def parse_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise CommandError(f"--bind {bind!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host.strip("[]"), int(port)


def ensure_port_free(host: str, port: int):
    """Fail at once with a clear message, rather than after Gunicorn's bind retries and restarts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


class Command(BaseCommand):
    help = (
        "Run the whole tracker: migrations, the first-run admin and demo project, then Gunicorn "
        "and the background worker, supervised together (Ctrl-C or SIGTERM stops both)."
    )
    requires_system_checks = []  # checked below, once settings are final

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default=os.environ.get("BUGSINK_BIND", "127.0.0.1:8000"),
            help="HOST:PORT for Gunicorn (default 127.0.0.1:8000, or $BUGSINK_BIND)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="serve the web only (run the worker elsewhere, e.g. its own systemd unit)",
        )

    def handle(self, *args, bind, no_worker, verbosity, **options):
        host, port = parse_bind(bind)
        ensure_port_free(host, port)
        self._settle_environment(host, port, bind)
        call_command("check", deploy=False)
        for alias in settings.DATABASES:
            call_command("migrate", database=alias, interactive=False, verbosity=verbosity - 1)
        self.stdout.write(f"Migrations applied ({', '.join(settings.DATABASES)})")
        admin = ensure_admin()
        dsn = ensure_demo_project()
        if dsn:
            (settings.DATA_DIR / SELF_DSN_FILE).write_text(dsn + "\n")
        connections.close_all()  # the children open their own; hold no SQLite handle here

        self._print_banner(admin, dsn)
        worker_command = settings.BUGSINK_WORKER_COMMAND
        with_worker = bool(worker_command) and not no_worker
        # The foreman and Gunicorn are forked from one loaded site (bugsink_site.shared_image);
        # the other backends' workers (RQ forks work horses of its own, django-tasks-db is
        # untried so) and --no-worker start afresh, as everything does with BUGSINK_SERVE_FORK=0.
        fork = (
            with_worker
            and settings.TASKS_BACKEND_NAME == "snappea"
            and env_bool("BUGSINK_SERVE_FORK", True)
        )
        children = [
            {
                "name": "web",
                "args": [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
                "fork": fork,
            }
        ]
        if with_worker:
            children.append(
                {
                    "name": "worker",
                    "args": [sys.executable, str(MANAGE_PY), *worker_command],
                    "fork": fork,
                }
            )
        spec = {
            "children": children,
            "stop_timeout": getattr(settings, "SNAPPEA_GRACE_PERIOD", 30.0) + 10.0,
            "max_restarts": env_int("BUGSINK_SERVE_MAX_RESTARTS", 5),
            "first_backoff": float(os.environ.get("BUGSINK_SERVE_RESTART_BACKOFF", "0.5")),
            "state_file": str(settings.DATA_DIR / "serve.json"),
            "announce": {"host": host, "port": port, "url": f"{settings.BASE_URL}/"},
        }
        sys.stdout.flush()
        sys.stderr.flush()
        # Same process, fresh interpreter: without Django, or with the site loaded once for the
        # children to fork from (see bugsink_site.supervisor). Either way none of what serve did
        # above (checks, migrations: a heap of objects no child needs) is left behind.
        entry = "bugsink_site.shared_image" if fork else "bugsink_site.supervisor"
        os.execv(sys.executable, [sys.executable, "-m", entry, json.dumps(spec)])

    def _settle_environment(self, host, port, bind):
        """Make what the children read explicit and absolute, whatever their working directory."""
        os.environ["BUGSINK_DATA_DIR"] = str(settings.DATA_DIR)
        os.environ["BUGSINK_BIND"] = bind
        if "BASE_URL" not in os.environ:
            shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
            shown = f"[{shown}]" if ":" in shown else shown
            base_url = f"http://{shown}:{port}"
            os.environ["BASE_URL"] = base_url
            settings.BASE_URL = settings.BUGSINK_INGEST_BASE_URL = base_url
            if hasattr(settings, "BUGSINK_ISSUES_BASE_URL"):
                settings.BUGSINK_ISSUES_BASE_URL = base_url

    def _print_banner(self, admin, dsn):
        lines = [f"Bugsink: {settings.BASE_URL}/  (data in {settings.DATA_DIR})"]
        if admin.created and admin.password and self.stdout.isatty():
            lines.append(
                f"Admin created: {admin.email} / {admin.password}  "
                "(shown this once; change it after logging in)"
            )
        elif admin.created and admin.password:
            # Not a terminal: a journal or a log file, which others may read.
            path = save_password(settings.DATA_DIR, admin)
            lines.append(f"Admin created: {admin.email}; its password is in {path} (owner only)")
        elif admin.created:
            lines.append(f"Admin created: {admin.email} (password from BUGSINK_ADMIN)")
        else:
            lines.append(f"Admin: {admin.email}")
        if dsn:
            lines.append(f"Demo project DSN: {dsn}")
        for line in lines:
            self.stdout.write(line)
        self.stdout.flush()
