from django.apps import AppConfig


class HostAccountsConfig(AppConfig):
    name = "tests.host_site.accounts"
    label = "host_accounts"
    default_auto_field = "django.db.models.BigAutoField"
