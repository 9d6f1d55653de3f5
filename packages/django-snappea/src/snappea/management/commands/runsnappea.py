import logging
import os
import sys
from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from snappea.conf import queue_alias
from snappea.foreman import Foreman, ForemanAlreadyRunning


class Command(BaseCommand):
    help = (
        "Run the foreman: claims snappea's tasks and runs them in worker threads. "
        "SIGTERM/SIGINT stop it gracefully; a second signal stops it at once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=None, help="worker threads (SNAPPEA_WORKERS)"
        )
        parser.add_argument(
            "--burst", action="store_true", help="exit once no task is due and none is running"
        )
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            default=[],
            help="only these queue names (repeatable)",
        )
        parser.add_argument(
            "--grace-period",
            type=float,
            default=None,
            help="seconds running tasks get at shutdown (SNAPPEA_GRACE_PERIOD)",
        )

    def handle(
        self,
        *args: str,
        workers: int | None,
        burst: bool,
        queues: list[str],
        grace_period: float | None,
        verbosity: int,
        **options: object,
    ) -> None:
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1")
        self._check_migrated()
        self._configure_logging(verbosity)
        foreman = Foreman(
            workers=workers, burst=burst, queue_names=queues, grace_period=grace_period
        )
        foreman.install_signal_handlers()
        try:
            unfinished = foreman.run()
        except ForemanAlreadyRunning as exc:
            raise CommandError(str(exc))
        sys.stdout.flush()
        sys.stderr.flush()
        if unfinished:
            # Worker threads still hold tasks: leave without waiting for them (they run again).
            os._exit(1)

    def _check_migrated(self) -> None:
        alias = queue_alias()
        executor = MigrationExecutor(connections[alias])
        targets = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "snappea"]
        if executor.migration_plan(targets):
            raise CommandError(
                f"The queue database {alias!r} is not migrated: run "
                f"`manage.py migrate --database {alias}` first."
            )

    def _configure_logging(self, verbosity: int) -> None:
        logger = logging.getLogger("snappea")
        if logger.handlers or logging.getLogger().handlers:
            return  # the project configured logging
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
