import json

from django.core.management.base import BaseCommand, CommandError

from snappea.status import foreman_status


class Command(BaseCommand):
    help = "Show whether the foreman is running, idle, stuck or dead, and the queue's figures."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the status as JSON"
        )

    def handle(self, *args, as_json=False, **options):
        status = foreman_status()
        if as_json:
            self.stdout.write(_json_dumps(status))
        else:
            width = max(len(key) for key in status)
            for key, value in status.items():
                if isinstance(value, float):
                    value = f"{value:.3f}"
                self.stdout.write(f"{key.ljust(width)}  {value if value is not None else '-'}")
        # A non-zero exit for scripts and monitors: only running and idle are healthy.
        if status["state"] in ("dead", "stuck", "never_started"):
            raise CommandError(f"foreman is {status['state']}")


def _json_dumps(value):
    return json.dumps(value, default=str, indent=2)
