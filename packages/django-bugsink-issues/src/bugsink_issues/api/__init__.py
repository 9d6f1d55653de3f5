"""The web API at /api/0/: Sentry's paths and field names, so Sentry's own clients work unchanged.

- instance.py: the NinjaAPI and its routers (routers/: one per resource); urls.py mounts it.
- auth.py: bearer tokens with scopes and the UI's session; `scoped(...)`, `Principal`.
- errors.py: every error is JSON `{"detail": ...}`; pagination.py: Sentry's `Link` header.
- organization.py: the one organization and the public base URL; lookups.py: path -> object.
- schemas/: the shapes of answers and requests.

Nothing is imported here: the models import the scope names from bugsink_issues.models.api.
"""
