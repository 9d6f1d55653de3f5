from django.core.management.base import BaseCommand

from bugsink_ingest.tasks import drain_spool


class Command(BaseCommand):
    help = "Hand the spooled events to the consumer now, in this process (recovery, debugging)."

    def handle(self, *args, **options):
        func = getattr(drain_spool, "call", None) or drain_spool.func
        self.stdout.write(f"handed off {func()} events")
