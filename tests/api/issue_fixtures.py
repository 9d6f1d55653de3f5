"""Fixtures of the issue and event API tests (imported by those modules): real events digested into
the two teams' projects of `world` (tests/api/conftest.py), and a JSON client with a bearer token.
"""

import json

import pytest

from bugsink_ingest.models import ProjectKey
from bugsink_issues.models import ApiToken, Issue
from tests.factories import SpooledAttachment, python_exception, spooled

__all__ = ["call", "digest", "events_world", "tokens"]


@pytest.fixture
def digest(django_capture_on_commit_callbacks):
    """Digest spooled events as the hand-off does (on-commit callbacks, so signals, run)."""
    from bugsink_issues.digest import digest_batch

    def run(events):
        with django_capture_on_commit_callbacks(execute=True):
            digest_batch(list(events))

    return run


def rich_exception(exc_type="ValueError", value="bad value", **extra):
    """A Python-SDK-shaped error with source context, locals, breadcrumbs, request and user."""
    payload = python_exception(
        exc_type,
        value,
        frames=(("django.core.handlers", "inner"), ("app.views", "checkout")),
        **extra,
    )
    frames = payload["exception"]["values"][0]["stacktrace"]["frames"]
    frames[0]["in_app"] = False
    frames[1].update(
        pre_context=["def checkout(request):", "    cart = request.cart"],
        context_line="    total = cart.total / cart.count",
        post_context=["    return total"],
        vars={"cart": "<Cart 3>", "request": "<WSGIRequest GET '/checkout/'>"},
    )
    payload.setdefault("breadcrumbs", {"values": [
        {"timestamp": 1_700_000_000.5, "category": "query", "message": "SELECT 1", "level": "info"}
    ]})  # fmt: skip
    payload.setdefault(
        "request",
        {
            "url": "https://shop.example.com/checkout/?step=2",
            "method": "POST",
            "query_string": "step=2",
            "headers": {"User-Agent": "Mozilla/5.0 Firefox/120.0", "Content-Type": "text/plain"},
        },
    )
    payload.setdefault("user", {"id": "42", "email": "buyer@example.com"})
    return payload


ATTACHMENT = b"order=42\nstatus=<script>alert(1)</script>\n"
FIRST_EVENT, LATEST_EVENT = "a1" * 16, "a3" * 16


@pytest.fixture
def events_world(world, digest):
    """world plus issues: in Alpha (team A) a ValueError with 3 events in two releases and
    environments (the first with an attachment, the latest with user feedback), a KeyError, a
    message; in Beta (team B) a SecretError. A DSN key per project."""
    alpha, beta = world["alpha"], world["beta"]
    attachment = SpooledAttachment.from_bytes(
        "order.txt", "text/html", "event.attachment", ATTACHMENT
    )
    first = rich_exception(release="1.0", environment="production")
    latest = rich_exception(release="1.1", environment="production", tags={"shard": "eu"})
    digest(
        [
            spooled(alpha, first, event_id=FIRST_EVENT, attachments=(attachment,)),
            spooled(alpha, rich_exception(release="1.1", environment="staging")),
            spooled(alpha, latest, event_id=LATEST_EVENT),
            spooled(alpha, python_exception("KeyError", "'sku'", frames=(("app.models", "save"),))),
            spooled(alpha, {"message": "cache is cold", "level": "warning", "platform": "python"}),
            spooled(beta, python_exception("SecretError", "beta only", frames=(("beta.x", "y"),))),
        ]
    )
    report = {"event_id": LATEST_EVENT, "name": "Ann", "email": "ann@example.com"}
    report["comments"] = "The checkout page broke."
    digest([spooled(alpha, report, kind="user_report")])
    issues = {i.title.split(":")[0]: i for i in Issue.objects.all()}
    return {
        **world,
        "value_error": issues["ValueError"],
        "key_error": issues["KeyError"],
        "message": issues["cache is cold"],
        "secret": issues["SecretError"],
        "alpha_key": ProjectKey.objects.create(project=alpha, label="web"),
        "beta_key": ProjectKey.objects.create(project=beta),
    }


@pytest.fixture
def tokens(world):
    """tokens["alice"] etc.: a token per user with every scope a user token may have."""
    from bugsink_issues.models.api import SCOPES

    everything = [s for s in SCOPES if s != "org:ci"]
    return {
        name: ApiToken.objects.create_user_token(world[name], scopes=everything)[1]
        for name in ("alice", "carol", "bob", "root")
    }


@pytest.fixture
def call(client):
    """call(method, path, token, body=None, **kwargs) -> response (JSON body when given)."""

    def run(method, path, token=None, body=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(client, method.lower())(path, headers=headers, **kwargs)

    return run
