"""Whose login and logout the UI uses: the host site's, unless the host has none.

Decided by settings, at request time:

- `LOGIN_URL = "bugsink_issues:login"`: the UI's own login page and logout (standalone use).
- `LOGIN_URL` left at Django's default (`/accounts/login/`) with nothing in the site answering it:
  the host has no login, so the UI's own one is used too.
- Any other `LOGIN_URL` (a URL name, a path, an SSO address elsewhere): the host's. The UI's own
  login page then only redirects there, and its logout URL answers 404.

The header's "Log out" posts to `BUGSINK_ISSUES_UI_LOGOUT_URL` when it is set ("" shows none: the
host's layout has its own); unset, to the UI's logout with the UI's own login, else to the host's
URL named "logout" (`django.contrib.auth.urls`) or "account_logout" (django-allauth), if it has
one, else there is none.
"""

from django.conf import global_settings, settings
from django.contrib.auth.decorators import login_required as django_login_required
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.functional import lazy

from bugsink_issues.conf import app_settings

__all__ = ["HOST_LOGOUT_NAMES", "login_required", "login_url", "logout_url", "uses_own_login"]

HOST_LOGOUT_NAMES = ("logout", "account_logout")


def _answers(path):
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def uses_own_login():
    """True when the UI's own login page and logout are the site's (see the module docstring)."""
    if resolve_url(settings.LOGIN_URL) == reverse("bugsink_issues:login"):
        return True
    return settings.LOGIN_URL == global_settings.LOGIN_URL and not _answers(settings.LOGIN_URL)


def login_url():
    return reverse("bugsink_issues:login") if uses_own_login() else resolve_url(settings.LOGIN_URL)


def logout_url():
    """Where the header's "Log out" posts, or None for no "Log out"."""
    configured = app_settings.UI_LOGOUT_URL
    if configured is not None:
        return resolve_url(configured) if configured else None
    if uses_own_login():
        return reverse("bugsink_issues:logout")
    for name in HOST_LOGOUT_NAMES:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def login_required(view):
    """Django's login_required, sending people to login_url() (read at each request)."""
    return django_login_required(view, login_url=lazy(login_url, str)())
