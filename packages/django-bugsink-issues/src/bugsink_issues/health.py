"""What bugsink_issues contributes to a readiness check: every configured database answers.

Named in `BugsinkIssuesConfig.readiness_checks`; whoever runs the readiness checks calls it. It
never raises: a failure is the answer.
"""

from django.conf import settings
from django.db import connections


def database_readiness() -> dict:
    """`{"ok": True}`, or `{"ok": False, "error": "<alias>: <exception>"}` for the first database
    alias that cannot run `SELECT 1`."""
    alias = ""
    try:
        for alias in settings.DATABASES:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception as exc:  # any failure to answer means "not ready", with the reason
        return {"ok": False, "error": f"{alias}: {exc}"}
    return {"ok": True}


__all__ = ["database_readiness"]
