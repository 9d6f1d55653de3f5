"""System checks for the deployment's own settings (the apps check theirs)."""

import os
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_deployment(app_configs=None, **kwargs):
    problems = []
    base = urlsplit(settings.BASE_URL)
    if base.scheme not in ("http", "https") or not base.hostname:
        problems.append(
            Error(
                f"BASE_URL={settings.BASE_URL!r} is not an http(s) URL.",
                hint="Set BASE_URL to the address users and SDKs reach, e.g. https://errors.example.com",
                id="bugsink_site.E001",
            )
        )
    admin = os.environ.get("BUGSINK_ADMIN", "")
    if admin and (":" not in admin or "@" not in admin.split(":", 1)[0]):
        problems.append(
            Error(
                "BUGSINK_ADMIN must look like email:password.",
                hint="e.g. BUGSINK_ADMIN=you@example.com:a-long-password",
                id="bugsink_site.E002",
            )
        )
    if settings.DEBUG:
        problems.append(
            Warning(
                "DEBUG is on: error pages show settings and local variables to anyone.",
                hint="Unset DEBUG in production.",
                id="bugsink_site.W001",
            )
        )
    return problems
