from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Report a test error through SENTRY_DSN, to check that dogfooding works."

    def handle(self, *args, **options):
        import sentry_sdk

        client = sentry_sdk.get_client()
        if not client.is_active():
            hint = (
                "SENTRY_DSN=self needs the demo project: run `manage.py serve` once first."
                if settings.SENTRY_DSN == "self"
                else "Set SENTRY_DSN (or SENTRY_DSN=self for this deployment's demo project)."
            )
            raise CommandError(f"sentry-sdk is not initialised. {hint}")
        try:
            raise RuntimeError("Bugsink test error: SENTRY_DSN works")
        except RuntimeError:
            event_id = sentry_sdk.capture_exception()
        if not event_id:
            raise CommandError("sentry-sdk dropped the event (before_send or rate limit)")
        sentry_sdk.flush(timeout=10)
        self.stdout.write(f"Sent test error {event_id} to {client.dsn}")
