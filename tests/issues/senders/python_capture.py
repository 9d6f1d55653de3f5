"""Runs functions of an application file under the real sentry-sdk and prints the event payloads
exactly as the SDK serialised them, one JSON list of strings (nothing goes over the network).

    python python_capture.py APP_FILE CALL [CALL ...]

A CALL is FUNCTION or FUNCTION=JSON (called with that one argument); what it raises is sent with
capture_exception. Run it with the application's directory as the working directory: the SDK
marks frames under it in-app.
"""

import importlib.util
import json
import sys

import sentry_sdk
from sentry_sdk.transport import Transport


class CollectingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.payloads = []

    def capture_envelope(self, envelope):
        for item in envelope.items:
            if item.type == "event":
                self.payloads.append(item.payload.get_bytes().decode())


def main(app_file, *calls):
    spec = importlib.util.spec_from_file_location("shop_app", app_file)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    transport = CollectingTransport()
    sentry_sdk.init(
        dsn="http://0123456789abcdef0123456789abcdef@127.0.0.1:9/1",
        transport=transport,
        default_integrations=False,
        release="shop@1.0.0",
    )
    for call in calls:
        name, _, argument = call.partition("=")
        try:
            getattr(app, name)(*([json.loads(argument)] if argument else []))
        except Exception as exc:
            sentry_sdk.capture_exception(exc)
    sentry_sdk.flush(timeout=5)
    print(json.dumps(transport.payloads))


if __name__ == "__main__":
    main(*sys.argv[1:])
