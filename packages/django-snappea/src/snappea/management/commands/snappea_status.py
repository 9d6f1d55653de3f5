import json
from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from snappea.status import HEALTHY_STATES, foreman_status


class Command(BaseCommand):
    help = "Show whether the foreman is running, idle, stuck or dead, and the queue's figures."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the status as JSON"
        )

    def handle(self, *args: str, as_json: bool = False, **options: object) -> None:
        status = foreman_status()
        if as_json:
            self.stdout.write(json.dumps(status, default=str, indent=2))
        else:
            width = max(len(key) for key in status)
            for key, value in status.items():
                shown = f"{value:.3f}" if isinstance(value, float) else value
                self.stdout.write(f"{key.ljust(width)}  {shown if shown is not None else '-'}")
        # A non-zero exit for scripts and monitors: only running and idle are healthy.
        if status["state"] not in HEALTHY_STATES:
            raise CommandError(f"foreman is {status['state']}")
