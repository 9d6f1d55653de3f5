"""django-bugsink-issues: grouping events into issues, their lifecycle, retention, alerts and the UI.

The public API (everything else is private and may change without notice):

- `bugsink_issues.urls`: the UI, namespace `bugsink_issues`.
- `bugsink_issues.digest.digest_batch`: the consumer of bugsink_ingest's spool (the AppConfig
  registers it).
- `bugsink_issues.models`: the models in its `__all__`.
- `bugsink_issues.signals`: issue_created, issue_regressed, issue_unmuted, issue_resolved,
  issue_reopened, issue_muted, issue_deleted.
- `bugsink_issues.alerts`: AlertSender, WebhookSender, register_sender, sender_for, send_test.
- The settings `BUGSINK_ISSUES_*` (defaults in `bugsink_issues.conf`).
- `bugsink_issues.health.database_readiness`, named in the AppConfig's `readiness_checks`.
- The templates `bugsink_issues/base.html` (its outer layout and blocks) and
  `bugsink_issues/alerts/issue_alert.{txt,html}`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("django-bugsink-issues")  # the one source: pyproject.toml's version
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
