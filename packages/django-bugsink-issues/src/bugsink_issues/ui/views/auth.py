from urllib.parse import urlencode

from django.conf import global_settings, settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, resolve_url
from django.urls import reverse

from bugsink_issues.conf import app_settings


class LoginView(auth_views.LoginView):
    """Django's login in the UI's layout, only for a host without a login page of its own.

    A host that set LOGIN_URL to another page (anything but Django's default) is redirected there
    instead: this form must not be a way around that host's login (its throttling, its second
    factor)."""

    template_name = "bugsink_issues/login.html"

    def dispatch(self, request, *args, **kwargs):
        host_login = resolve_url(settings.LOGIN_URL)
        own = reverse("bugsink_issues:login")
        if settings.LOGIN_URL != global_settings.LOGIN_URL and host_login != own:
            query = {k: v for k, v in request.GET.items() if k == REDIRECT_FIELD_NAME}
            separator = "&" if "?" in host_login else "?"
            return redirect(host_login + (separator + urlencode(query) if query else ""))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "bugsink_outer_template": app_settings.UI_OUTER_TEMPLATE,
        }
