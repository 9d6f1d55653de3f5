"""Sends events to a DSN with the real sentry-sdk, the way an application would.

    python python_sdk.py DSN MODE MARKER
MODE: br | gzip | none (transport compression; an exception), django (a Django view that raises,
through the Django integration and the test client), logging (logger.error and logger.exception
through the logging integration). Prints the ids of the events the SDK sent, one JSON list.
"""

import json
import logging
import sys

import sentry_sdk

sent_ids = []


def remember(event, hint):
    sent_ids.append(event["event_id"])
    return event


def init(dsn, **options):
    sentry_sdk.init(dsn=dsn, before_send=remember, traces_sample_rate=0, **options)


def parse_order(marker):
    # A type of its own per run: the same code raising a plain ValueError with another marker is
    # (rightly) the same issue, and these runs share one deployment.
    error_type = type(f"OrderError_{marker}", (ValueError,), {})
    raise error_type(f"e2e python {marker}: order 42 could not be parsed")


def send_exception(dsn, compression, marker):
    experiments = {"transport_compression_algo": compression} if compression != "none" else {}
    if compression == "none":
        experiments["transport_compression_level"] = 0
    init(dsn, _experiments=experiments)
    for _ in range(2):  # two events, one issue
        try:
            parse_order(marker)
        except ValueError:
            sentry_sdk.capture_exception()


def send_from_django_view(dsn, marker):
    import django
    from django.conf import settings
    from django.http import HttpResponse
    from django.test import Client
    from django.urls import path
    from sentry_sdk.integrations.django import DjangoIntegration

    def checkout(request):
        raise KeyError(f"e2e django {marker}")

    def fine(request):
        return HttpResponse("ok")

    settings.configure(
        DEBUG=False,
        SECRET_KEY="sender",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=["django.contrib.contenttypes"],
        DATABASES={},
        LOGGING_CONFIG=None,
    )
    sys.modules[__name__].urlpatterns = [path("checkout/", checkout), path("fine/", fine)]
    init(dsn, integrations=[DjangoIntegration()])
    django.setup()
    client = Client(raise_request_exception=False)
    assert client.get("/fine/").status_code == 200
    assert client.get("/checkout/?cart=7").status_code == 500


def send_log_records(dsn, marker):
    init(dsn)  # the logging integration is on by default: ERROR records become events
    logger = logging.getLogger("e2e.billing")
    # The marker is part of the template (the message grouping uses the template, not the args).
    logger.error(f"e2e logging {marker}: invoice %s failed", 1234)
    try:
        raise LookupError(f"e2e logging {marker}: no such customer")
    except LookupError:
        logger.exception("customer lookup failed")


if __name__ == "__main__":
    dsn, mode, marker = sys.argv[1:4]
    if mode in ("br", "gzip", "none"):
        send_exception(dsn, mode, marker)
    elif mode == "django":
        send_from_django_view(dsn, marker)
    elif mode == "logging":
        send_log_records(dsn, marker)
    else:
        raise SystemExit(f"unknown mode {mode}")
    sentry_sdk.flush(timeout=10)
    print(json.dumps(sent_ids))
