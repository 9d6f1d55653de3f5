"""Events as the real sentry-sdk sends them: run as a script, it prints their JSON payloads.

    python tests/issues/sdk_events.py chains|search

A transport of its own keeps what the SDK would have posted (the envelope's event items, as
bytes), so the tests get exactly the SDK's payloads without a server. `sdk_events(name)` runs it in
a subprocess (sentry_sdk.init() must not touch the test process's own state).
"""

import json
import subprocess
import sys
from pathlib import Path


def sdk_events(scenario):
    """The payloads (dicts) of one scenario, oldest first."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), scenario],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def _explicit_cause():
    try:
        raise KeyError("cart-42")
    except KeyError as exc:
        raise RuntimeError("checkout failed") from exc


def _while_handling():
    try:
        raise KeyError("cart-42")
    except KeyError:
        raise RuntimeError("cleanup failed")


def _call_while_handling():
    try:
        raise KeyError("cart-42")
    except KeyError:
        int("not a number")


def _exception_group():
    try:
        raise OSError("disk full")
    except OSError as exc:
        raise ExceptionGroup(
            "payment batch", [ValueError("card declined"), TypeError("amount is None")]
        ) from exc


def _nested_group():
    raise ExceptionGroup(
        "outer", [ValueError("a"), ExceptionGroup("inner", [ConnectionError("refused")])]
    )


def chains(sdk):
    for raiser in (
        _explicit_cause,
        _while_handling,
        _call_while_handling,
        _exception_group,
        _nested_group,
    ):
        try:
            raiser()
        except BaseException:  # groups are BaseExceptions
            sdk.capture_exception()


def search(sdk):
    sdk.set_tag("k8s.pod/name", "checkout-7d9f")
    sdk.set_tag("customer tier", "gold plus")
    sdk.set_tag("region", "eu-west-1")
    sdk.set_user({"email": "ana@example.com"})
    sdk.add_breadcrumb(category="http", message="POST /api/pay 502")
    try:
        raise ConnectionRefusedError("payment gateway gw-eu-3 refused the connection")
    except ConnectionRefusedError:
        sdk.capture_exception()
    sdk.capture_message("nightly reconciliation drifted by 17 cents")


def main(scenario):
    import sentry_sdk
    from sentry_sdk.transport import Transport

    payloads = []

    class Keep(Transport):
        def capture_envelope(self, envelope):
            for item in envelope.items:
                if item.type == "event":
                    payloads.append(json.loads(item.payload.get_bytes()))

    sentry_sdk.init(
        dsn="http://public@127.0.0.1:9/1",
        transport=Keep,
        release="myshop@1.2.0",
        environment="production",
        server_name="web-1",
        default_integrations=False,
    )
    {"chains": chains, "search": search}[scenario](sentry_sdk)
    sentry_sdk.flush()
    print(json.dumps(payloads))


if __name__ == "__main__":
    main(sys.argv[1])
