from django.apps import AppConfig

STATE = {"queue_ok": True, "broker_down": True}


class ReadinessAppConfig(AppConfig):
    name = "tests.ingest.readiness_app"
    label = "readiness_app"
    readiness_checks = {
        "queue": "tests.ingest.readiness_app.apps.queue_readiness",
        "broker": "tests.ingest.readiness_app.apps.broker_readiness",
    }


def queue_readiness():
    return {"ok": STATE["queue_ok"], "depth": 3}


def broker_readiness():
    if STATE["broker_down"]:
        raise ConnectionError("broker unreachable")
    return {"ok": True}
