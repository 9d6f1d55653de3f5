"""Release health, client reports and transactions from the real sentry-sdk, as an app sends them.

    python python_health.py DSN MODE RELEASE ENVIRONMENT

MODE:
- app-ok: an application-mode session of user "u1" with a handled error, ended (exited).
- app-crash: a session of user "u2" that ends by an uncaught exception (the SDK's excepthook marks
  it crashed; the atexit flush sends it).
- wsgi: three requests to a WSGI app under the SDK's middleware (request-mode sessions, sent as
  aggregates), the third raising (a crash).
- dropped: two events the SDK drops itself (before_send), so that it sends a client report.
- transactions: ten rounds of one transaction and one error, each flushed on its own, with
  traces_sample_rate=1.0.
"""

import sys
from wsgiref.util import setup_testing_defaults

import sentry_sdk


def init(dsn, release, environment, **options):
    sentry_sdk.init(
        dsn=dsn,
        release=release,
        environment=environment,
        _experiments={"transport_compression_level": 0},
        **options,
    )


def app_session(user, crash):
    sentry_sdk.set_user({"id": user})
    sentry_sdk.start_session(session_mode="application")
    sentry_sdk.flush()  # the init update
    if crash:
        raise RuntimeError("health e2e: the app crashed")
    try:
        int("not a number")
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()  # an update with errors=1
    sentry_sdk.end_session()
    sentry_sdk.flush()  # exited


def wsgi_requests():
    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("health e2e: a request crashed")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    middleware = SentryWsgiMiddleware(app)
    for path in ("/", "/", "/boom"):
        environ: dict = {}
        setup_testing_defaults(environ)
        environ["PATH_INFO"] = path
        try:
            list(middleware(environ, lambda *args: None))
        except RuntimeError:
            pass
    sentry_sdk.flush()


def transactions():
    for i in range(10):
        with sentry_sdk.start_transaction(name=f"health e2e transaction {i}"):
            pass
        sentry_sdk.flush()
        sentry_sdk.capture_message(f"health e2e error {i}")
        sentry_sdk.flush()


def main():
    dsn, mode, release, environment = sys.argv[1:5]
    if mode in ("app-ok", "app-crash"):
        init(dsn, release, environment, auto_session_tracking=False)
        app_session("u1" if mode == "app-ok" else "u2", crash=mode == "app-crash")
    elif mode == "wsgi":
        init(dsn, release, environment)
        wsgi_requests()
    elif mode == "dropped":
        init(dsn, release, environment, before_send=lambda event, hint: None)
        sentry_sdk.capture_message("dropped 1")
        sentry_sdk.capture_message("dropped 2")
        sentry_sdk.flush()
    elif mode == "transactions":
        init(dsn, release, environment, traces_sample_rate=1.0)
        transactions()
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
