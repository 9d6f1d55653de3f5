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

    # Grouping version new projects start with (see digest/grouping.py VERSIONS). Existing projects
    # keep the version their settings row holds until moved on their settings page.
    GROUPING_VERSION = 2

    # Field caps applied by digest/normalize.py.
    MAX_STRING_LENGTH = 16_384
    MAX_FRAMES = 250
    MAX_BREADCRUMBS = 200
    MAX_DEPTH = 12
    MAX_LIST_ITEMS = 500

    # zstd level for stored payloads.
    COMPRESSION_LEVEL = 3

    # Attachments: the bytes of attachments a project may keep (None: no quota). One beyond it
    # is not stored; its event says so (a problem on the event page). Retention frees the bytes
    # of the events it removes. One attachment's own cap is BUGSINK_INGEST_MAX_ATTACHMENT_SIZE.
    ATTACHMENT_QUOTA_PER_PROJECT = 2 * 1024**3

    # Alerts.
    ALERTS_ENABLED = True
    ALERT_RATE_PER_PROJECT_PER_HOUR = 30
    ALERT_RATE_GLOBAL_PER_HOUR = 300
    # The whole of one webhook send (DNS, connect, TLS, request, answer) within this many seconds.
    ALERT_TIMEOUT_SECONDS = 5
    # Webhooks go to public addresses only (alerts/addresses.py), but to these networks too
    # (CIDRs or addresses, e.g. ["10.0.0.0/8", "192.168.1.5"]: a LAN Mattermost, a local n8n).
    ALERT_ALLOWED_NETWORKS: tuple[str, ...] = ()
    # True: every address, private, loopback and link-local ones included.
    ALERT_ALLOW_PRIVATE_TARGETS = False
    ALERT_FROM_EMAIL = None  # None: DEFAULT_FROM_EMAIL
    # User feedback (feedback items, user reports, the crash-report dialog) alerts the project's
    # channels, one alert per feedback within the channels' rate caps (alerts/feedback.py).
    ALERT_ON_FEEDBACK = True
    # Used to build links in alerts, e.g. "https://errors.example.com". Empty: no links.
    BASE_URL = ""

    # Cron monitors (monitors/): the margin and max runtime (minutes) of a monitor whose check-ins
    # name none; how often the periodic check looks for misses and timeouts (seconds); how many
    # check-ins are kept per monitor (the oldest go first).
    MONITOR_DEFAULT_MARGIN_MINUTES = 1
    MONITOR_DEFAULT_MAX_RUNTIME_MINUTES = 30
    MONITOR_CHECK_SECONDS = 60
    MONITOR_CHECKINS_KEPT = 100

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
    # The Content-Security-Policy of the UI's pages (ui/csp.py): directive -> sources. The UI has
    # no inline script or style. A host whose outer template needs more extends it; None: no
    # header from the UI (the host sets its own).
    UI_CONTENT_SECURITY_POLICY: dict[str, list[str]] | None = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    # Where the header's "Log out" posts: None = the UI's own logout when it uses its own login,
    # else the host's URL named "logout" or "account_logout"; "" = no "Log out" (the host's
    # layout has one). A URL or a URL name otherwise (see ui/login.py).
    UI_LOGOUT_URL = None
    # Days shown in sparklines and the issue volume chart.
    UI_SPARKLINE_DAYS = 14
    UI_CHART_DAYS = 30

    # The web API (/api/0/, bugsink_issues.api). One organization per installation: Sentry's
    # clients address everything through an organization slug.
    ORGANIZATION_SLUG = "bugsink"
    ORGANIZATION_NAME = "Bugsink"
    # Requests per token (or per logged-in user) per minute; beyond it a 429 with Retry-After.
    API_RATE_LIMIT_PER_MINUTE = 1200
    # The Django cache the counters live in. A per-process cache (LocMemCache, Django's default)
    # counts per worker process; a shared one (file, database, Redis) counts per installation.
    API_RATE_LIMIT_CACHE = "default"

    # Uploads (sentry-cli, the bundler plugins): chunks and file contents are kept on disk here,
    # named by their sha1. None: uploads are refused with a message that names this setting.
    ARTIFACT_DIR = None
    # What the chunk-upload options announce, and enforce.
    UPLOAD_CHUNK_SIZE = 8 * 1024 * 1024
    UPLOAD_CHUNKS_PER_REQUEST = 64
    # Below the 20 MB body limit of the README's reverse-proxy examples: clients split their POSTs.
    UPLOAD_MAX_REQUEST_SIZE = 16 * 1024 * 1024
    UPLOAD_MAX_FILE_SIZE = 512 * 1024 * 1024
    UPLOAD_CONCURRENCY = 4
    # At most this many files in one artifact bundle.
    UPLOAD_MAX_BUNDLE_FILES = 20_000
    # Chunks not assembled into a file within this many seconds are deleted.
    UPLOAD_CHUNK_MAX_AGE_SECONDS = 24 * 3600

    # Source maps in the digest (digest/sourcemaps.py): a map larger than this is not applied
    # (the frame keeps its minified position, with a note).
    SOURCEMAP_MAX_BYTES = 64 * 1024 * 1024
    # Parsed maps kept per process, by the bytes of map and minified source they were built from.
    SOURCEMAP_CACHE_BYTES = 256 * 1024 * 1024

    # Release health (digest/health.py). Distinct users are counted exactly per hour bucket up to
    # this many (beyond it the bucket is marked as capped and later users are not counted).
    RELEASE_HEALTH_MAX_USERS_PER_HOUR = 10_000
    # Hour buckets older than this are deleted.
    RELEASE_HEALTH_RETENTION_DAYS = 90
    # The Releases page's figures cover this many days; adoption is the share of the project's
    # sessions in the same window.
    RELEASE_HEALTH_WINDOW_DAYS = 14

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
