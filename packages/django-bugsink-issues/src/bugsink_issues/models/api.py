"""Tokens of the web API (bugsink_issues.api): user tokens and organization tokens, with scopes.

A token's secret is shown once, when it is made; only its sha256 is stored, with a few characters
of it for people to tell tokens apart. Scope names are Sentry's, so a token made for sentry-cli or
the Sentry MCP server reads the same here as there.
"""

import base64
import hashlib
import json
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = [
    "DEFAULT_USER_SCOPES",
    "ORGANIZATION_TOKEN_SCOPES",
    "SCOPES",
    "ApiToken",
    "TokenKind",
    "expand_scopes",
    "hash_token",
]

# Sentry's scope names. A `:admin` scope includes its `:write`, which includes its `:read`.
SCOPES = (
    "org:read",
    "org:write",
    "org:admin",
    "org:ci",
    "project:read",
    "project:write",
    "project:admin",
    "project:releases",
    "team:read",
    "team:write",
    "team:admin",
    "member:read",
    "member:write",
    "member:admin",
    "event:read",
    "event:write",
    "event:admin",
    "alerts:read",
    "alerts:write",
)
# What an organization token (sentry-cli in CI, the bundler plugins) may do: releases and uploads,
# and read the organization and its projects to find them.
_IMPLIED = {"org:ci": ("org:read", "project:read", "project:releases")}
ORGANIZATION_TOKEN_SCOPES = ("org:ci",)
# What `bugsink_create_token` and the UI preselect: enough for sentry-cli and for reading issues.
DEFAULT_USER_SCOPES = (
    "org:read",
    "project:read",
    "project:releases",
    "team:read",
    "member:read",
    "event:read",
    "event:write",
)

# Writing last_used_at on every request would make every API call a write to the main database.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def expand_scopes(scopes):
    """The scopes `scopes` grant, implied ones included (a frozenset)."""
    granted = set()
    for scope in scopes:
        granted.add(scope)
        resource, _, level = scope.partition(":")
        if level == "admin":
            granted.update({f"{resource}:write", f"{resource}:read"})
        elif level == "write":
            granted.add(f"{resource}:read")
        granted.update(_IMPLIED.get(scope, ()))
    return frozenset(granted)


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class TokenKind(models.TextChoices):
    USER = "user", "User token"
    ORGANIZATION = "organization", "Organization token"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def of_user(self, user):
        """The user tokens of `user` (organization tokens belong to no user)."""
        return self.filter(kind=TokenKind.USER, user=user)

    def organization_tokens(self):
        return self.filter(kind=TokenKind.ORGANIZATION)

    def for_secret(self, token):
        """The token with this secret, revoked or not, or None."""
        return self.filter(token_hash=hash_token(token)).select_related("user").first()


class ApiTokenManager(models.Manager.from_queryset(ApiTokenQuerySet)):  # type: ignore[misc]
    def create_user_token(self, user, *, name="", scopes=DEFAULT_USER_SCOPES):
        """A token that acts as `user`. Returns (token row, the secret: shown once)."""
        secret = "sntryu_" + secrets.token_hex(32)
        row = self._store(
            secret, kind=TokenKind.USER, user=user, created_by=user, name=name, scopes=scopes
        )
        return row, secret

    def create_organization_token(self, *, base_url, organization_slug, name="", created_by=None):
        """An organization token in Sentry's `sntrys_` form, which names the server and the
        organization, so that SENTRY_AUTH_TOKEN alone configures sentry-cli. Returns (token row,
        the secret: shown once)."""
        if not base_url:
            raise ValueError("an organization token needs the public base URL of this server")
        payload = {
            "iat": time.time(),
            "url": base_url.rstrip("/"),
            "region_url": base_url.rstrip("/"),
            "org": organization_slug,
        }
        # sentry-cli parses this strictly and silently treats anything else as a plain token:
        # standard base64 with padding for the payload, 43 characters of standard base64 (32
        # bytes, padding dropped) for the secret.
        encoded = base64.b64encode(json.dumps(payload).encode()).decode()
        random_part = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        secret = f"sntrys_{encoded}_{random_part}"
        row = self._store(
            secret,
            kind=TokenKind.ORGANIZATION,
            user=None,
            created_by=created_by,
            name=name,
            scopes=ORGANIZATION_TOKEN_SCOPES,
        )
        return row, secret

    def _store(self, secret, *, kind, user, created_by, name, scopes):
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(unknown)}")
        return self.create(
            kind=kind,
            user=user,
            created_by=created_by,
            name=name[:200],
            token_hash=hash_token(secret),
            prefix=secret[:7],
            suffix=secret[-4:],
            scopes=sorted(set(scopes), key=SCOPES.index),
        )


class ApiToken(models.Model):
    """A bearer token of the web API. User tokens act as their user and see what the user sees;
    organization tokens have no user and the `org:ci` scope."""

    kind = models.CharField(max_length=16, choices=TokenKind.choices, default=TokenKind.USER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="bugsink_api_tokens",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    # For people to tell tokens apart: "sntryu_…a1b2".
    prefix = models.CharField(max_length=8)
    suffix = models.CharField(max_length=4)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="organization", user__isnull=True)
                | models.Q(kind="user", user__isnull=False),
                name="bi_apitoken_kind_user",
            )
        ]

    def __str__(self):
        return f"{self.name or self.get_kind_display()} ({self.display})"

    @property
    def display(self):
        return f"{self.prefix}…{self.suffix}"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    def granted_scopes(self):
        return expand_scopes(self.scopes)

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def mark_used(self, now=None):
        """Record a use, at most once per LAST_USED_RESOLUTION (a write per request is too many)."""
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            self.last_used_at = now
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
