from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.spool import get_spool
from bugsink_ingest.spool.base import ExclusiveDrains
from bugsink_ingest.tasks import DrainFailed, drain


class Command(BaseCommand):
    help = (
        "Hand the spooled events to the consumer now, in this process (recovery, debugging). "
        "--retry-quarantined first puts the events the consumer failed on back in the spool."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--retry-quarantined",
            action="store_true",
            help="put quarantined events back in the spool before draining",
        )

    def handle(self, *args: Any, retry_quarantined: bool, **options: Any) -> None:
        spool = get_spool()
        if retry_quarantined:
            self.stdout.write(f"put back {spool.restore_quarantined()} quarantined events")
        try:
            handed_off = drain(schedule_retry=False)
        except DrainFailed as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"handed off {handed_off} events")
        if (
            not handed_off
            and not ingest_settings.PARALLEL_DRAINS
            and isinstance(spool, ExclusiveDrains)
        ):
            with spool.drain_lock() as free:
                if not free:  # one drain at a time: the worker's is running
                    self.stdout.write(
                        "another drain is running (the worker's): it hands the waiting events "
                        "off; run this again once it is done to drain here"
                    )
        quarantined = spool.quarantined_count()
        if quarantined:
            self.stdout.write(
                f"{quarantined} events are quarantined (the consumer failed on them); "
                "--retry-quarantined puts them back"
            )
