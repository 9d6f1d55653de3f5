"""Settings of bugsink_issues (prefix BUGSINK_ISSUES_), with their defaults."""

from appconf import AppConf
from django.conf import settings  # noqa: F401  (AppConf needs settings imported)


class BugsinkIssuesAppConf(AppConf):
    # Retention: per-project defaults; ProjectSettings overrides per project. None = no age limit.
    RETENTION_MAX_EVENTS = 10_000
    RETENTION_MAX_AGE_DAYS = None
    # At most this many events are evicted per digest batch (bounded work per transaction).
    RETENTION_EVICT_BATCH = 500
    # How often the max-age sweep runs per project, in seconds.
    RETENTION_AGE_SWEEP_SECONDS = 300

    # Grouping version new projects start with (see grouping.py VERSIONS).
    GROUPING_VERSION = 1

    # Field caps applied by normalize.py.
    MAX_STRING_LENGTH = 16_384
    MAX_FRAMES = 250
    MAX_BREADCRUMBS = 200
    MAX_DEPTH = 12
    MAX_LIST_ITEMS = 500

    # zstd level for stored payloads.
    COMPRESSION_LEVEL = 3

    # Alerts.
    ALERTS_ENABLED = True
    ALERT_RATE_PER_PROJECT_PER_HOUR = 30
    ALERT_RATE_GLOBAL_PER_HOUR = 300
    ALERT_TIMEOUT_SECONDS = 5
    # Webhooks to private, loopback and link-local addresses are refused unless this is True.
    ALERT_ALLOW_PRIVATE_TARGETS = False
    ALERT_FROM_EMAIL = None  # None: DEFAULT_FROM_EMAIL
    # Used to build links in alerts, e.g. "https://errors.example.com". Empty: no links.
    BASE_URL = ""

    class Meta:
        prefix = "BUGSINK_ISSUES"
