import argparse

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "The deployment's background worker: the Tasks backend's worker command (e.g. runsnappea), "
        "with the garbage collector tuned for the digest."
    )
    # `serve` has run the system checks already. Here they would import the URLconf, and with it
    # every view module (the UI's, allauth's, cryptography, fido2), which the worker never serves.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("worker_command", nargs=argparse.REMAINDER)

    def handle(self, *args, worker_command, **options):
        from bugsink_site import gc_tuning

        # The worker serves no page; it builds links to the UI's (in alerts). Its URLconf has those
        # only, so that the first alert does not import allauth's views, cryptography and fido2.
        settings.ROOT_URLCONF = "bugsink_site.worker_urls"
        gc_tuning.tune_worker()
        call_command(*worker_command)
