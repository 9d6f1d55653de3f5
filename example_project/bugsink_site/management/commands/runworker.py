import argparse

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "The deployment's background worker: the Tasks backend's worker command (e.g. runsnappea), "
        "with the garbage collector tuned for the digest."
    )

    def add_arguments(self, parser):
        parser.add_argument("worker_command", nargs=argparse.REMAINDER)

    def handle(self, *args, worker_command, **options):
        from bugsink_site import gc_tuning

        gc_tuning.tune_worker()
        call_command(*worker_command)
