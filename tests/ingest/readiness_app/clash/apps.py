from django.apps import AppConfig


class ClashConfig(AppConfig):
    name = "tests.ingest.readiness_app.clash"
    label = "readiness_clash"
    readiness_checks = {"spool": "tests.ingest.readiness_app.apps.queue_readiness"}


class MissingConfig(AppConfig):
    name = "tests.ingest.readiness_app.clash"
    label = "readiness_missing"
    readiness_checks = {"missing": "tests.ingest.readiness_app.apps.no_such_check"}
