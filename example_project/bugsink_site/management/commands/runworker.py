import argparse
import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

MANAGE_PY = Path(__file__).resolve().parents[3] / "manage.py"


class Command(BaseCommand):
    help = (
        "The deployment's background worker: the Tasks backend's worker command (e.g. runsnappea), "
        "with the garbage collector tuned for the digest. --processes N runs N of them, each "
        "restarted when it dies (--processes 1: one, supervised)."
    )
    # `serve` has run the system checks already. Here they would import the URLconf, and with it
    # every view module (the UI's, allauth's, cryptography, fido2), which the worker never serves.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="worker processes to run and restart when they die (default: "
            "BUGSINK_WORKER_PROCESSES; unsupervised when that is 1 and this is not given)",
        )
        parser.add_argument(
            "worker_command",
            nargs=argparse.REMAINDER,
            help="the worker's command (default: the configured backend's own worker)",
        )

    def handle(self, *args, processes, worker_command, **options):
        # Asked for (even 1), or configured above 1: supervised, each process restarted when it
        # dies (RQ's worker exits on some Redis errors, e.g. while it restarts).
        supervise = processes is not None
        if processes is None:
            processes = getattr(settings, "BUGSINK_WORKER_PROCESSES", 1)
        if processes < 1:
            raise CommandError("--processes must be at least 1")
        worker_command = worker_command or getattr(settings, "BUGSINK_WORKER_ENGINE_COMMAND", None)
        if not worker_command:
            raise CommandError("no worker command: this Tasks backend runs no worker process")
        if processes > 1 and getattr(settings, "TASKS_BACKEND_NAME", None) == "snappea":
            raise CommandError("snappea runs one foreman per host (SNAPPEA_WORKERS: its threads)")
        if supervise or processes > 1:
            return self._supervise(processes, worker_command)
        from bugsink_site import gc_tuning

        # The worker serves no page; it builds links to the UI's (in alerts). Its URLconf has those
        # only, so that the first alert does not import allauth's views, cryptography and fido2.
        settings.ROOT_URLCONF = "bugsink_site.worker_urls"
        gc_tuning.tune_worker()
        call_command(*worker_command)

    def _supervise(self, processes: int, worker_command: list[str]):
        """N copies of the one-process form under serve's supervisor (restarts with backoff; a
        signal stops them all). Our own pool rather than the backend's: RQ's worker pool
        (rqworker-pool) runs no scheduler, so deferred tasks would never come due, and
        django-tasks-db has no pool at all."""
        from bugsink_site.supervisor import Child, Supervisor

        children = [
            Child(
                name=f"worker-{n}",
                args=[sys.executable, str(MANAGE_PY), "runworker", *worker_command],
                env=dict(os.environ),
            )
            for n in range(1, processes + 1)
        ]
        supervisor = Supervisor(
            children,
            stop_timeout=getattr(settings, "SNAPPEA_GRACE_PERIOD", 30.0) + 5.0,
            out=sys.stdout,
        )
        supervisor.install_signal_handlers()
        code = supervisor.run()
        if code:
            raise CommandError("a worker process kept dying; stopped them all")
