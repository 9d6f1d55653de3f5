"""What `nox -s build` checks about each distribution: `contents` (of the wheel and the sdist),
`installed` (the wheel alone in a fresh virtualenv), and a minimal settings module per package for
`django-admin check` there (settings_<module>)."""

# A usual Django site's apps (Django's own): the package's admin and views import with them.
SITE_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
