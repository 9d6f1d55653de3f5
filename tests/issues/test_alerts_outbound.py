"""The outbound client of webhooks in-process: the address policy form by form, the allow-list,
connecting to the address that was checked (a resolver that answers differently the second time),
and one deadline for the whole send, against real local servers."""

import socket
import threading
import time

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from bugsink_issues.alerts.addresses import address_problem, allowed_networks, check_address
from bugsink_issues.alerts.outbound import DeliveryFailed, RefusedTarget, post, resolve_target
from tests.security.servers import CAPTURE_HOST, CaptureServer, DribblingServer

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700::1111",
    "2a00:1450:4001:82a::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped public address
    "64:ff9b::808:808",  # NAT64 of a public address (an IPv6-only host reaching IPv4 services)
    "2002:808:808::1",  # 6to4 of a public address
]
NOT_PUBLIC = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "100.64.0.1",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "192.0.0.8",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.1",
    "203.0.113.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:0:a00:1",  # IPv4-translated 10.0.0.1
    "::10.0.0.1",  # IPv4-compatible
    "::8.8.8.8",  # IPv4-compatible, even of a public address: deprecated, refused
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::808:808",  # local-use NAT64
    "100::1",
    "2001::1",  # Teredo
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001:db8::1",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "3fff::1",
    "5f00::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",  # site-local
    "ff02::1",
]


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses_may_be_called(ip):
    assert address_problem(ip) is None


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_every_other_address_is_refused_with_a_reason(ip):
    problem = address_problem(ip)
    assert problem and problem.startswith(ip)


def test_embedded_ipv4_is_named_in_the_reason():
    assert address_problem("2002:7f00:1::1") == (
        "2002:7f00:1::1 (6to4 for 127.0.0.1) is not a public address"
    )
    assert "(NAT64 for 169.254.169.254)" in address_problem("64:ff9b::a9fe:a9fe")
    assert "(IPv4-mapped for 10.0.0.1)" in address_problem("::ffff:10.0.0.1")
    assert "Teredo" in address_problem("2001:0:4136:e378:8000:63bf:3fff:fdd2")


def test_allowed_networks_let_their_addresses_through_in_any_form():
    import ipaddress

    lan = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.168.1.5/32")]
    for ip in ("10.1.2.3", "::ffff:10.1.2.3", "64:ff9b::a01:203", "2002:a01:203::", "192.168.1.5"):
        assert address_problem(ip, lan) is None, ip
    for ip in ("192.168.1.6", "127.0.0.1", "::1", "169.254.169.254"):
        assert address_problem(ip, lan), ip


@override_settings(BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS=["10.0.0.0/8", " 192.168.1.5 "])
def test_the_setting_is_parsed_and_checked():
    assert [str(n) for n in allowed_networks()] == ["10.0.0.0/8", "192.168.1.5/32"]
    check_address("10.9.9.9")
    with override_settings(BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS=["10.0.0.0/33"]):
        with pytest.raises(ImproperlyConfigured, match="10.0.0.0/33"):
            check_address("10.9.9.9")
        assert "bugsink_issues.E006" in {m.id for m in run_checks()}


def test_names_are_judged_by_every_address_they_resolve_to():
    # The system resolver: localhost is loopback (127.0.0.1, and ::1 where configured).
    with pytest.raises(RefusedTarget, match="is not a public address"):
        resolve_target("http://localhost/hook")


class Resolver:
    """Answers getaddrinfo from a script (a name server that changes its answer), counting calls."""

    def __init__(self, *answers, delay=0.0):
        self.answers = list(answers)
        self.calls = 0
        self.delay = delay

    def __call__(self, host, port, *args, **kwargs):
        self.calls += 1
        time.sleep(self.delay)
        ips = self.answers[min(self.calls, len(self.answers)) - 1]
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in ips
        ]


@override_settings(BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS=[CAPTURE_HOST])
def test_the_connection_goes_to_the_checked_address_not_to_a_second_answer(monkeypatch):
    allowed = CaptureServer(CAPTURE_HOST)
    forbidden = CaptureServer("127.0.0.1", port=allowed.port)  # same port, a refused address
    resolver = Resolver([CAPTURE_HOST], ["127.0.0.1"])  # rebinding: the second answer differs
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    try:
        assert post(f"http://rebind.example:{allowed.port}/hook", b"{}", {}) == 200
    finally:
        monkeypatch.undo()
        allowed.close()
        forbidden.close()
    assert resolver.calls == 1
    assert [path for path, _, _ in allowed.requests] == ["/hook"]
    assert allowed.requests[0][1]["Host"] == f"rebind.example:{allowed.port}"
    assert forbidden.requests == []


@override_settings(BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS=[CAPTURE_HOST])
def test_an_answer_mixing_public_and_refused_addresses_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver(["8.8.8.8", "169.254.169.254"]))
    with pytest.raises(RefusedTarget, match="169.254.169.254"):
        post("http://mixed.example/hook", b"{}", {})


@override_settings(BUGSINK_ISSUES_ALERT_TIMEOUT_SECONDS=0.5)
def test_a_slow_name_lookup_counts_against_the_deadline(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver(["8.8.8.8"], delay=3))
    with pytest.raises(DeliveryFailed, match="cannot resolve slow.example within 0.5 s"):
        post("http://slow.example/hook", b"{}", {})


@override_settings(
    BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS=[CAPTURE_HOST], BUGSINK_ISSUES_ALERT_TIMEOUT_SECONDS=1
)
def test_an_answer_dribbled_a_byte_at_a_time_is_cut_off_at_the_deadline():
    server = DribblingServer(pause=0.3)  # each byte well within 1 s; the answer takes ~17 s
    try:
        with pytest.raises(DeliveryFailed, match="no complete answer within 1 s"):
            post(server.url + "/hook", b"{}", {})
        (connection,) = server.connections
        for _ in range(100):
            if connection["ended"]:
                break
            time.sleep(0.1)
        assert connection["ended"] and not connection["complete"]
        assert 0 < connection["sent"] < len(server.ANSWER)
    finally:
        server.close()


@override_settings(
    BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS=[CAPTURE_HOST], BUGSINK_ISSUES_ALERT_TIMEOUT_SECONDS=1
)
def test_a_tls_handshake_that_never_finishes_is_cut_off_at_the_deadline():
    listener = socket.create_server((CAPTURE_HOST, 0))
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    try:
        with pytest.raises(DeliveryFailed, match="no complete answer within 1 s"):
            post(f"https://{CAPTURE_HOST}:{listener.getsockname()[1]}/hook", b"{}", {})
    finally:
        listener.close()
        for conn, _ in accepted:
            conn.close()
