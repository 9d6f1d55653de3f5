"""The package's surface: one version, and every name the README calls public exists."""

import importlib
from importlib.metadata import version

import bugsink_issues

PUBLIC = {
    "bugsink_issues.urls": ["app_name", "urlpatterns"],
    "bugsink_issues.digest": ["digest_batch"],
    "bugsink_issues.signals": [
        "issue_created",
        "issue_regressed",
        "issue_unmuted",
        "issue_resolved",
        "issue_reopened",
        "issue_muted",
        "issue_deleted",
    ],
    "bugsink_issues.alerts": [
        "AlertSender",
        "WebhookSender",
        "register_sender",
        "send_test",
        "sender_for",
    ],
    "bugsink_issues.health": ["database_readiness"],
    "bugsink_issues.conf": ["app_settings", "BugsinkIssuesAppConf"],
}


def test_the_version_has_one_source():
    assert version("django-bugsink-issues") == bugsink_issues.__version__


def test_the_public_names_exist():
    for module_name, names in PUBLIC.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert hasattr(module, name), f"{module_name}.{name}"
    models = importlib.import_module("bugsink_issues.models")
    for name in models.__all__:
        assert hasattr(models, name), name
    assert importlib.import_module("bugsink_issues.urls").app_name == "bugsink_issues"


def test_only_compat_imports_the_tasks_api():
    from harness.processes import ROOT
    from tests.package_rules import tasks_api_importers

    source = ROOT / "packages" / "django-bugsink-issues" / "src" / "bugsink_issues"
    assert tasks_api_importers(source) == []
