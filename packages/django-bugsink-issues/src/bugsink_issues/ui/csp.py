"""The Content-Security-Policy of the UI's pages, set by the app itself.

Set on the UI's own responses (urls.py wraps every view), not by a site middleware: a host site
that mounts the UI gets the policy with it. The UI has no inline script, inline event handler or
style attribute (ui.js does the work), so the policy allows scripts and styles from the site's own
origin only; an injected <script> or onclick="..." is not run. A response that already carries the
header (a view, a decorator of the host, Django 6's `csp_override`) keeps its own; Django 6's
ContentSecurityPolicyMiddleware leaves ours in place likewise.

BUGSINK_ISSUES_UI_CONTENT_SECURITY_POLICY holds the directives; None turns the header off.
"""

import functools

from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver

from bugsink_issues.conf import app_settings

HEADER = "Content-Security-Policy"

__all__ = ["HEADER", "content_security_policy", "policy", "with_content_security_policy"]


def policy() -> str | None:
    """The header's value from the setting (None: no header)."""
    directives = app_settings.UI_CONTENT_SECURITY_POLICY
    if not directives:
        return None
    if not isinstance(directives, dict):
        raise ImproperlyConfigured(
            "BUGSINK_ISSUES_UI_CONTENT_SECURITY_POLICY must be a dict of directive -> sources"
        )
    parts = []
    for name, sources in directives.items():
        values = [sources] if isinstance(sources, str) else list(sources)
        parts.append(" ".join([name, *values]))
    return "; ".join(parts)


def content_security_policy(view):
    """Decorate a view: its responses carry the UI's policy (unless they have one already)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        value = policy()
        if value and HEADER not in response:
            response[HEADER] = value
        return response

    return wrapped


def with_content_security_policy(patterns):
    """Every view of `patterns` (and of included URLconfs) decorated; the list is returned."""
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = content_security_policy(pattern.callback)
        elif isinstance(pattern, URLResolver):
            with_content_security_policy(pattern.url_patterns)
    return patterns
