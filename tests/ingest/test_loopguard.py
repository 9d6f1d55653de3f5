"""bugsink_ingest.loopguard with the real sentry-sdk: what the drain and the ingest views mark is
dropped by LoopGuard.before_send (the SDK calls it in the capturing thread), the rest is sent."""

import logging

import pytest
import sentry_sdk
from django.test import Client, override_settings
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.transport import Transport

from bugsink_ingest import spool
from bugsink_ingest.loopguard import LoopGuard, for_an_ingest_request, in_ingest_chain
from bugsink_ingest.spool.segments import SegmentSpool
from bugsink_ingest.tasks import drain
from tests.ingest.test_spool import make_event

SEEN_INSIDE: list[bool] = []


class Captured(Transport):
    """Keeps what the SDK would send."""

    events: list[dict] = []

    def capture_envelope(self, envelope):
        for item in envelope.items:
            if item.type == "event":
                Captured.events.append(item.payload.json)


@pytest.fixture
def sdk():
    """A client with a guard, current in an isolation scope of this test only (a global
    sentry_sdk.init() would leave integrations behind that change later tests' events)."""
    Captured.events = []
    clients = []

    def use(guard):
        client = sentry_sdk.Client(
            dsn="http://0123456789abcdef0123456789abcdef@127.0.0.1:9/1",
            transport=Captured,
            before_send=guard.before_send,
            default_integrations=False,
            auto_enabling_integrations=False,
            integrations=[LoggingIntegration(event_level=logging.ERROR)],
        )
        clients.append(client)
        scope.set_client(client)

    with sentry_sdk.isolation_scope() as scope:
        yield use
    for client in clients:
        client.close()


def reporting_consumer(events):
    """A consumer that reports (a digest bug would): an exception and an error log line."""
    SEEN_INSIDE.append(in_ingest_chain())
    sentry_sdk.capture_exception(RuntimeError("digest bug"))
    logging.getLogger("bugsink_issues.digest").error("digest failed for %s", events[0].event_id)


@pytest.fixture
def spooled_one(tmp_path):
    with override_settings(
        BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool",
        BUGSINK_INGEST_CONSUMER="tests.ingest.test_loopguard.reporting_consumer",
    ):
        spool._spool_for.cache_clear()
        spool.get_spool().write(make_event(1))
        yield
    spool._spool_for.cache_clear()


def test_reports_from_inside_the_drain_are_dropped_when_the_dsn_is_this_site(sdk, spooled_one):
    SEEN_INSIDE.clear()
    sdk(LoopGuard(targets_self=True))
    assert drain() == 1
    sentry_sdk.get_client().flush()
    assert SEEN_INSIDE == [True] and Captured.events == []
    # Outside the chain the same SDK sends: the guard, not a broken SDK, stopped them.
    sentry_sdk.capture_message("an ordinary error")
    sentry_sdk.get_client().flush()
    assert [e.get("message") for e in Captured.events] == ["an ordinary error"]


def test_reports_from_inside_the_drain_go_to_another_tracker(sdk, spooled_one):
    sdk(LoopGuard(targets_self=False))
    assert drain() == 1
    sentry_sdk.get_client().flush()
    assert len(Captured.events) == 2  # the exception and the log record


class UnwritableSpool(SegmentSpool):
    def write(self, event):
        raise OSError(28, "No space left on device")


@pytest.mark.django_db
def test_errors_while_handling_an_ingest_request_are_never_sent(sdk, tmp_path):
    from bugsink_ingest.models import Project, ProjectKey

    key = ProjectKey.objects.create(project=Project.objects.create(name="p"))
    sdk(LoopGuard(targets_self=False))
    with override_settings(
        BUGSINK_INGEST_SPOOL="tests.ingest.test_loopguard.UnwritableSpool",
        BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool",
    ):
        spool._spool_for.cache_clear()
        try:
            response = Client().post(
                f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}",
                b'{}\n{"type":"event"}\n{"message":"m"}',
                content_type="application/octet-stream",
            )
        finally:
            spool._spool_for.cache_clear()
    assert response.status_code == 503  # logged at ERROR ("ingest failed while spooling")
    sentry_sdk.get_client().flush()
    assert Captured.events == []


def test_an_event_for_an_ingest_url_is_dropped_under_any_prefix():
    guard = LoopGuard(targets_self=False)
    ingest = {"request": {"url": "http://errors.example.com/api/1/envelope/"}}
    assert for_an_ingest_request(ingest)
    assert guard.before_send(ingest, {}) is None
    other = {"request": {"url": "http://errors.example.com/admin/"}}
    assert not for_an_ingest_request(other)
    assert guard.before_send(other, {}) is other


def test_ingests_own_log_records_are_dropped_only_when_reporting_to_itself():
    record = {"logger": "bugsink_ingest.tasks", "level": "error"}
    assert LoopGuard(targets_self=True).before_send(record, {}) is None
    assert LoopGuard(targets_self=False).before_send(record, {}) is record


def test_the_guard_caps_events_per_minute():
    guard = LoopGuard(targets_self=False, max_per_minute=3)
    sent = [guard.before_send({"n": i}, {}) for i in range(10)]
    assert sum(1 for e in sent if e is not None) == 3
