"""A Django application with the real sentry-sdk whose error carries secrets, as many do: a bearer
token header, a session cookie, a password in the form and in a local variable, a token in the
query string, a card number in the extra data. One POST goes through Django's real WSGI handler.

    LEAKY_SECRETS=JSON python leaky_app.py DSN

LEAKY_SECRETS names the secrets ({"bearer_token": ..., "session_cookie": ..., "form_password":
..., "query_token": ..., "card_number": ...}): they come from outside, so that no secret is in
this file's source lines, which the SDK sends as context of the frames; and from the environment,
not the command line, which the SDK sends as extra data.

The SDK's own scrubbing is switched off (send_default_pii=True, an empty denylist), as it is in
apps that want their headers and bodies, and as SDKs of other platforms send them anyway: the
tracker must scrub. Prints, as JSON, the event ids and the events exactly as the SDK sent them.
"""

import json
import os
import secrets
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import django
from django.conf import settings
from django.urls import path


def make_secrets():
    """Fresh each run, so that no copy of them can be anywhere else (source files, logs)."""
    return {
        "bearer_token": f"eyJ{secrets.token_hex(12)}.{secrets.token_hex(8)}",
        "session_cookie": f"sess-{secrets.token_hex(10)}",
        "form_password": f"pw-{secrets.token_hex(8)}",
        "query_token": f"qt-{secrets.token_hex(6)}",
        "card_number": "4111 1111 1111 1111",  # a test card number: Luhn-valid, Visa's prefix
    }


def send_leaky_error(dsn, leaked):
    """Run this application against `dsn` (a subprocess: the SDK's client is global); what it
    printed."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__)), dsn],
        env={**os.environ, "LEAKY_SECRETS": json.dumps(leaked)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def checkout(request):
    password = request.POST["password"]  # a frame variable the SDK sends  # noqa: F841
    raise RuntimeError("checkout failed for user bob")


urlpatterns = [path("checkout/", checkout)]


def main(dsn):
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import EventScrubber

    sent = []

    def remember(event, hint):
        sent.append(event)
        return event

    settings.configure(
        DEBUG=False,
        SECRET_KEY="leaky-app-only",
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        LOGGING_CONFIG=None,
    )
    django.setup()
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        send_default_pii=True,
        event_scrubber=EventScrubber(denylist=[], send_default_pii=True),
        before_send=remember,
        release="shop@3.0.0",
    )
    leaked = json.loads(os.environ["LEAKY_SECRETS"])
    sentry_sdk.set_extra("payment_card", leaked["card_number"])

    from django.core.wsgi import get_wsgi_application

    body = urlencode({"username": "bob", "password": leaked["form_password"]}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/checkout/",
        "QUERY_STRING": f"step=pay&coupon_token={leaked['query_token']}",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": BytesIO(body),
        "HTTP_AUTHORIZATION": f"Bearer {leaked['bearer_token']}",
        "HTTP_COOKIE": f"shop_session={leaked['session_cookie']}; theme=dark",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
    }
    setup_testing_defaults(environ)
    statuses = []
    b"".join(get_wsgi_application()(environ, lambda status, *_: statuses.append(status)))
    assert statuses == ["500 Internal Server Error"], statuses
    sentry_sdk.flush(timeout=10)
    print(json.dumps({"ids": [e["event_id"] for e in sent], "events": sent}, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
