"""System checks for settings a user can get wrong."""

from importlib.util import find_spec

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from bugsink_issues.conf import app_settings


@checks.register()
def check_settings(app_configs=None, **kwargs):
    from bugsink_issues.digest.grouping import VERSIONS

    errors: list[checks.CheckMessage] = []
    for name in (
        "RETENTION_MAX_EVENTS",
        "RETENTION_EVICT_BATCH",
        "RETENTION_AGE_SWEEP_SECONDS",
        "ALERT_RATE_PER_PROJECT_PER_HOUR",
        "ALERT_RATE_GLOBAL_PER_HOUR",
        "MAX_STRING_LENGTH",
        "MAX_FRAMES",
        "MAX_BREADCRUMBS",
        "MAX_DEPTH",
        "MAX_LIST_ITEMS",
        "UPLOAD_CHUNK_SIZE",
        "UPLOAD_CHUNKS_PER_REQUEST",
        "UPLOAD_MAX_REQUEST_SIZE",
        "UPLOAD_MAX_FILE_SIZE",
        "UPLOAD_CONCURRENCY",
        "UPLOAD_MAX_BUNDLE_FILES",
        "UPLOAD_CHUNK_MAX_AGE_SECONDS",
        "SOURCEMAP_MAX_BYTES",
        "SOURCEMAP_CACHE_BYTES",
    ):
        value = getattr(app_settings, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            errors.append(
                checks.Error(
                    f"BUGSINK_ISSUES_{name} must be a positive integer (got {value!r}).",
                    id="bugsink_issues.E001",
                )
            )
    age = app_settings.RETENTION_MAX_AGE_DAYS
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 1):
        errors.append(
            checks.Error(
                f"BUGSINK_ISSUES_RETENTION_MAX_AGE_DAYS must be None or a positive integer "
                f"(got {age!r}).",
                id="bugsink_issues.E002",
            )
        )
    if app_settings.GROUPING_VERSION not in VERSIONS:
        errors.append(
            checks.Error(
                f"BUGSINK_ISSUES_GROUPING_VERSION must be one of {sorted(VERSIONS)}.",
                id="bugsink_issues.E003",
            )
        )
    timeout = app_settings.ALERT_TIMEOUT_SECONDS
    if not isinstance(timeout, int | float) or not 0 < timeout <= 60:
        errors.append(
            checks.Error(
                "BUGSINK_ISSUES_ALERT_TIMEOUT_SECONDS must be a number of seconds in (0, 60].",
                id="bugsink_issues.E004",
            )
        )
    level = app_settings.COMPRESSION_LEVEL
    if not isinstance(level, int) or not 1 <= level <= 22:
        errors.append(
            checks.Error(
                "BUGSINK_ISSUES_COMPRESSION_LEVEL must be an integer from 1 to 22.",
                id="bugsink_issues.E005",
            )
        )
    if app_settings.ALERT_ALLOW_PRIVATE_TARGETS:
        errors.append(
            checks.Warning(
                "BUGSINK_ISSUES_ALERT_ALLOW_PRIVATE_TARGETS is on: webhooks may call private, "
                "loopback and link-local addresses (e.g. cloud metadata services).",
                hint="Leave it off unless your webhook receivers live on a private network.",
                id="bugsink_issues.W001",
            )
        )
    for setting_id, read in (
        ("bugsink_issues.E006", _allowed_networks),
        ("bugsink_issues.E007", _ui_policy),
    ):
        try:
            read()
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id=setting_id))
    if find_spec("bugsink_ingest.handoff") is None:
        errors.append(
            checks.Warning(
                "bugsink_ingest has no handoff module: spooled events are not digested.",
                id="bugsink_issues.W002",
            )
        )
    return errors


def _allowed_networks():
    from bugsink_issues.alerts.addresses import allowed_networks

    allowed_networks()


def _ui_policy():
    from bugsink_issues.ui.csp import policy

    policy()
