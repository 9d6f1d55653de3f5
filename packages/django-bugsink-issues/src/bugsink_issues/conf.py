"""Settings of bugsink_issues (prefix BUGSINK_ISSUES_), their defaults, and the one way to read them.

Read every setting through `app_settings` (`app_settings.RETENTION_MAX_EVENTS`), never through
`django.conf.settings` directly. django-appconf attaches the defaults below to the settings object
when this module is first imported; if that first import happens inside an `override_settings`
block, the block's end drops them again. `app_settings` reads at call time and falls back to the
default here, so it is right either way (and a test's override_settings always wins).
"""

from typing import Any

from appconf import AppConf  # type: ignore[import-untyped, unused-ignore]
from django.conf import settings

PREFIX = "BUGSINK_ISSUES_"


class BugsinkIssuesAppConf(AppConf):  # type: ignore[misc, unused-ignore]
    # Retention: per-project defaults; ProjectSettings overrides per project. None = no age limit.
    RETENTION_MAX_EVENTS = 10_000
    RETENTION_MAX_AGE_DAYS = None
    # At most this many events are evicted per digest batch (bounded work per transaction).
    RETENTION_EVICT_BATCH = 500
    # How often the max-age sweep runs per project, in seconds.
    RETENTION_AGE_SWEEP_SECONDS = 300

    # Grouping version new projects start with (see digest/grouping.py VERSIONS).
    GROUPING_VERSION = 1

    # Field caps applied by digest/normalize.py.
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

    # Team invitations: days an invitation stays valid; e-mail it to the invited address (the link
    # is always shown to copy as well).
    INVITATION_DAYS = 7
    INVITATION_EMAIL = True
    # The host's sign-up page (a URL name or path; None: none). An invitation for an address
    # without an account links there with ?next= the invitation (invitations.pending(request)
    # tells the host's sign-up which invitation is being followed).
    SIGNUP_URL = None
    # The addresses a user has proven, which an invitation is checked against: a dotted path to a
    # callable(user) -> iterable of addresses. The default trusts the user's `email` field.
    USER_EMAILS = "bugsink_issues.invitations.email_field"
    # The host's account page (URL name or path) the preferences page links to; None: no link.
    ACCOUNT_URL = None

    # The UI. The template bugsink_issues/base.html extends: a host site names its own layout
    # here; it must define the blocks `title`, `extra_head` and `content` (see the README).
    UI_OUTER_TEMPLATE = "bugsink_issues/standalone.html"
    # Days shown in sparklines and the issue volume chart.
    UI_SPARKLINE_DAYS = 14
    UI_CHART_DAYS = 30

    class Meta:
        prefix = "BUGSINK_ISSUES"


DEFAULTS: dict[str, Any] = {
    name.removeprefix(PREFIX): value for name, value in BugsinkIssuesAppConf._meta.defaults.items()
}


class AppSettings:
    """The app's settings by their short name, read at call time (see the module docstring)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            default = DEFAULTS[name]
        except KeyError:
            raise AttributeError(f"bugsink_issues has no setting {name!r}") from None
        return getattr(settings, PREFIX + name, default)


app_settings = AppSettings()

__all__ = ["DEFAULTS", "PREFIX", "BugsinkIssuesAppConf", "app_settings"]
