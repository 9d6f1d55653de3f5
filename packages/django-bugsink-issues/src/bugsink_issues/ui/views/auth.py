from django.contrib.auth import views as auth_views

from bugsink_issues.conf import app_settings


class LoginView(auth_views.LoginView):
    """Django's login in the UI's layout; only for standalone use (a host keeps its own)."""

    template_name = "bugsink_issues/login.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "bugsink_outer_template": app_settings.UI_OUTER_TEMPLATE,
        }
