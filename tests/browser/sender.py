"""Sends events with the real sentry-sdk, the way an application would.

    python sender.py DSN plain|hostile|chains|many|releases
Prints the ids of the events sent, as one JSON list.
"""

import json
import sys

import sentry_sdk

HOSTILE = (
    '<script>window.__pwned=1;alert("script")</script>'
    "<img src=x onerror=\"window.__pwned=1;alert('img')\">"
)
sent = []
hostile = False


def remember(event, hint):
    if hostile:  # request headers as a web framework integration would send them
        event["request"] = {"url": "http://shop.example/checkout", "method": "POST"}
        event["request"]["headers"] = {"X-Evil": HOSTILE, "User-Agent": "test"}
    sent.append(event["event_id"])
    return event


def checkout(cart):
    total = sum(cart)  # noqa: F841  (a local variable the SDK sends)
    raise ValueError(f"cart checkout failed for {len(cart)} items")


def checkout_hostile(note):
    evil_local = HOSTILE  # noqa: F841  (a frame variable carrying the payload)
    raise RuntimeError(f"hostile {note} {HOSTILE}")


def refund(order):
    try:
        raise KeyError(order)
    except KeyError as exc:
        raise RuntimeError("refund failed") from exc


def reship(order):
    try:
        raise KeyError(order)
    except KeyError:
        raise LookupError("reship failed")


def send_chains():
    for func in (refund, reship):
        try:
            func("order-7")
        except Exception:
            sentry_sdk.capture_exception()


def send_many(count=55):
    """`count` issues, one event each (their own fingerprints)."""
    for n in range(count):
        with sentry_sdk.new_scope() as scope:
            scope.fingerprint = [f"many-{n}"]
            sentry_sdk.capture_message(f"batch job {n:02d} stalled")


def send_releases():
    """One issue seen in shop@1.2.0, and another package's later release."""
    for release, message in (("shop@1.2.0", "stock sync lagging"), ("frontend@3.1.0", "ui lag")):
        sentry_sdk.capture_event({"message": message, "level": "warning", "release": release})


def main(dsn, mode):
    global hostile
    hostile = mode == "hostile"
    sentry_sdk.init(dsn=dsn, before_send=remember, release="shop@1.4.2", environment="production")
    if mode in ("chains", "many", "releases"):
        {"chains": send_chains, "many": send_many, "releases": send_releases}[mode]()
        sentry_sdk.flush(timeout=30)
        print(json.dumps(sent))
        return
    if mode == "hostile":
        sentry_sdk.set_tag("evil", HOSTILE[:190])
        sentry_sdk.set_user({"id": "u1", "username": HOSTILE})
        sentry_sdk.add_breadcrumb(category="ui.click", message=HOSTILE, data={"x": HOSTILE})
        sentry_sdk.capture_message(f"message {HOSTILE}")
        func, arg = checkout_hostile, "note"
    else:
        sentry_sdk.add_breadcrumb(category="http", message="GET /api/cart 200")
        func, arg = checkout, [3, 4]
    try:
        func(arg)
    except Exception:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    print(json.dumps(sent))


if __name__ == "__main__":
    main(*sys.argv[1:3])
