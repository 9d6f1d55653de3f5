"""Where alerts may go, against a real deployment: targets are checked when a channel is saved, a
webhook send has one deadline for all of it, and only public addresses (plus the networks the
installation allows with BUGSINK_ALERT_ALLOW_PRIVATE) are called, whatever form or name they hide
behind."""

import re

import pytest

from harness.deployment import Deployment
from harness.processes import wait_for
from tests.security.servers import CAPTURE_HOST
from tests.security.site import (
    add_channel,
    channels,
    deliveries,
    new_project,
    send_exception,
    send_test_alert,
)

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

TIMEOUT = 2  # BUGSINK_ALERT_TIMEOUT of the deployment under test


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = Deployment(
        tmp_path_factory.mktemp("targets") / "data",
        env={"BUGSINK_ALERT_ALLOW_PRIVATE": CAPTURE_HOST, "BUGSINK_ALERT_TIMEOUT": str(TIMEOUT)},
    )
    try:
        yield site.start()
    finally:
        site.stop()


@pytest.fixture(scope="module")
def client(site):
    return site.browser().login()


REFUSED_AT_SAVE = {
    "not a url": "http:// or https:// URL",
    "file:///etc/passwd": "http:// or https:// URL",
    "ftp://example.com/hook": "http:// or https:// URL",
    "http://": "no host",
    "https://example.com:99999/hook": "not a valid URL",
    "http://[not-an-ip]/": "not a valid URL",
    # Addresses written out: checked at once (names are checked at each send).
    "http://127.0.0.1:8000/": "127.0.0.1 is not a public address",
    "http://10.1.2.3/hook": "10.1.2.3 is not a public address",
    "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is not a public address",
    "http://0.0.0.0:8000/": "0.0.0.0 is not a public address",
    "http://100.64.0.1/": "100.64.0.1 is not a public address",
    "http://[::1]/": "::1 is not a public address",
    "http://[fe80::1]/": "fe80::1 is not a public address",
    "http://[fd00::1]/": "fd00::1 is not a public address",
    "http://[fec0::1]/": "fec0::1 is not a public address",
    "http://[::ffff:10.0.0.1]/": "(IPv4-mapped for 10.0.0.1) is not a public address",
    "http://[::ffff:0:a00:1]/": "(IPv4-translated for 10.0.0.1) is not a public address",
    "http://[::10.0.0.1]/": "IPv4-compatible",
    "http://[2002:7f00:1::1]/": "(6to4 for 127.0.0.1) is not a public address",
    "http://[2002:a9fe:a9fe::]/": "(6to4 for 169.254.169.254) is not a public address",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/": "Teredo",
    "http://[64:ff9b::7f00:1]/": "(NAT64 for 127.0.0.1) is not a public address",
    "http://[64:ff9b:1::a00:1]/": "local-use NAT64",
}


def test_bad_targets_are_refused_when_saved_with_the_reason(site, client):
    project_id, _ = new_project(site, "Validation")
    for target, reason in REFUSED_AT_SAVE.items():
        page = add_channel(client, project_id, "webhook", target)
        assert "Alert channel not added" in page and reason in page, (target, page[-3000:])
    page = add_channel(client, project_id, "email", "ops@example.com, not an email")
    assert "Alert channel not added" in page and "'not an email' is not an email address" in page
    assert channels(site, project_id) == {}

    # What may be called is saved: a public name (resolved at each send), and an allowed address
    # in another form (IPv4-mapped) is the allowed address.
    for target in (
        "https://hooks.slack.com/services/T000/B000/XXXX",
        f"http://[::ffff:{CAPTURE_HOST}]:9/hook",
        f"http://{CAPTURE_HOST}:9/hook",
    ):
        assert "Alert channel added" in add_channel(client, project_id, "slack", target), target
    assert set(channels(site, project_id)) == {
        "https://hooks.slack.com/services/T000/B000/XXXX",
        f"http://[::ffff:{CAPTURE_HOST}]:9/hook",
        f"http://{CAPTURE_HOST}:9/hook",
    }


def test_a_name_is_checked_by_what_it_resolves_to(site, client, capture):
    """localhost is a name: saved, then refused at the send because it resolves to loopback (the
    allowed 127.0.0.2 is not among its addresses)."""
    project_id, _ = new_project(site, "Names")
    target = f"http://localhost:{capture.port}/hook"
    assert "Alert channel added" in add_channel(client, project_id, "webhook", target)
    page = send_test_alert(client, project_id, channels(site, project_id)[target])
    assert "Test alert: refused" in page, page[-3000:]
    # Whichever loopback address the resolver answers first is named.
    assert re.search(r"address (127\.0\.0\.1|::1) is not a public address", page), page[-3000:]
    assert capture.requests == []

    # The same server by its allowed address in IPv6 form: delivered there.
    mapped = f"http://[::ffff:{CAPTURE_HOST}]:{capture.port}/mapped"
    assert "Alert channel added" in add_channel(client, project_id, "webhook", mapped)
    page = send_test_alert(client, project_id, channels(site, project_id)[mapped])
    assert "Test alert: sent" in page, page[-3000:]
    assert [path for path, _, _ in capture.requests] == ["/mapped"]


def test_an_allowed_private_network_is_called(site, client, capture):
    project_id, dsn = new_project(site, "LAN")
    assert "Alert channel added" in add_channel(client, project_id, "mattermost", capture.url)
    send_exception(dsn, "allowed network")
    capture.wait_for_paths(["/"])
    ((trigger, status, error),) = deliveries(site, channels(site, project_id)[capture.url])
    assert (trigger, status, error) == ("new_issue", "sent", "")


def test_a_server_answering_a_byte_at_a_time_is_cut_off_at_the_deadline(site, client, dribbler):
    """Each byte comes well within any per-read timeout; the whole answer would take about 30 s."""
    project_id, dsn = new_project(site, "Slow receiver")
    assert "Alert channel added" in add_channel(client, project_id, "slack", dribbler.url)
    channel_id = channels(site, project_id)[dribbler.url]
    send_exception(dsn, "slow receiver")
    ((trigger, status, error),) = wait_for(
        lambda: deliveries(site, channel_id), timeout=60, what="the delivery to finish"
    )
    assert status == "failed", (status, error)
    assert f"no complete answer within {TIMEOUT} s" in error
    (connection,) = dribbler.connections
    wait_for(lambda: connection["ended"], timeout=10, what="the server to see the hang-up")
    assert not connection["complete"] and connection["sent"] < len(dribbler.ANSWER)
