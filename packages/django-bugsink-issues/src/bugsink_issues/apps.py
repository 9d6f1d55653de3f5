from django.apps import AppConfig


class BugsinkIssuesConfig(AppConfig):
    name = "bugsink_issues"
    label = "bugsink_issues"
    verbose_name = "Bugsink issues"
    default_auto_field = "django.db.models.BigAutoField"
