"""The reference deployment's account system: django-allauth configured and glued to the issues app.

config: reading the environment (no Django imports; settings.py uses it). adapters: who may sign
up, how SSO users are created and joined to teams. forms: the sign-up bound to an invitation.
emails: the addresses a user has proven (what invitations are checked against). middleware: the
installation-wide MFA requirement. routers: the cache's own SQLite file. context: allauth's pages
in the UI's layout.
"""
