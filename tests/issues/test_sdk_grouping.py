"""Grouping of events made by the real sentry-sdk (a transport that hands the envelope bytes to the
digest, as ingest would): call sites, ids in messages, messages."""

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from bugsink_issues.models import Issue
from tests.factories import spooled

pytestmark = pytest.mark.django_db


class SpoolingTransport(Transport):
    """Keeps each event item's JSON bytes exactly as the SDK serialised them."""

    def __init__(self, options=None):
        super().__init__(options)
        self.payloads = []

    def capture_envelope(self, envelope):
        for item in envelope.items:
            if item.type == "event":
                self.payloads.append(item.payload.get_bytes())


@pytest.fixture
def sdk():
    transport = SpoolingTransport()
    client = sentry_sdk.Client(
        dsn="http://0123456789abcdef0123456789abcdef@127.0.0.1:9/1",
        transport=transport,
        release="shop@1.0.0",
        default_integrations=False,
    )
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        yield transport
    client.close()


def load_order(order_id):
    raise LookupError(f"order {order_id} not found (request 7f3e9c1a-52b4-4c1e-9d0f-3a2b1c0d9e8f)")


def load_invoice(order_id):
    raise LookupError(f"order {order_id} not found (request 7f3e9c1a-52b4-4c1e-9d0f-3a2b1c0d9e8f)")


def capture(func, *args):
    try:
        func(*args)
    except Exception as exc:
        sentry_sdk.capture_exception(exc)


def test_two_call_sites_are_two_issues_and_ids_do_not_split(project, digest, sdk):
    for order_id in (1, 2, 3):
        capture(load_order, order_id)
    capture(load_invoice, 1)
    digest([spooled(project, payload) for payload in sdk.payloads])
    issues = {i.culprit: i for i in Issue.objects.all()}
    assert len(issues) == 2
    order_issue = next(i for c, i in issues.items() if c.endswith("load_order"))
    assert order_issue.event_count == 3
    assert order_issue.title.startswith("LookupError: order 3 not found")
    assert order_issue.last_release == "shop@1.0.0"


def test_messages_with_different_numbers_are_one_issue(project, digest, sdk):
    for n in (5, 17):
        sentry_sdk.capture_message(f"queue backlog is {n} items", level="warning")
    sentry_sdk.capture_message("disk almost full", level="warning")
    digest([spooled(project, payload) for payload in sdk.payloads])
    assert sorted(Issue.objects.values_list("event_count", "level")) == [
        (1, "warning"),
        (2, "warning"),
    ]
    assert Issue.objects.filter(title="queue backlog is 17 items").exists()
