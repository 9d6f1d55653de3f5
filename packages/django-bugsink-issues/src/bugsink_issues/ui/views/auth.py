from django.conf import global_settings, settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import resolve_url
from django.urls import reverse

from bugsink_issues.ui.login import login_url, uses_own_login
from bugsink_issues.ui.views.common import page_context


class LoginView(auth_views.LoginView):
    """Django's login in the UI's layout, used only when the host has no login of its own
    (ui/login.py); otherwise it sends people on to the host's."""

    template_name = "bugsink_issues/login.html"

    def dispatch(self, request, *args, **kwargs):
        if not uses_own_login():
            next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("bugsink_issues:projects")
            return redirect_to_login(next_url, login_url())
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self):
        if settings.LOGIN_REDIRECT_URL == global_settings.LOGIN_REDIRECT_URL:
            return reverse("bugsink_issues:projects")  # not Django's /accounts/profile/
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **page_context(self.request)}


class LogoutView(auth_views.LogoutView):
    """The UI's own logout: only with its own login (the host's logout serves otherwise)."""

    def dispatch(self, request, *args, **kwargs):
        if not uses_own_login():
            raise Http404("This site logs out elsewhere.")
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self):
        if settings.LOGOUT_REDIRECT_URL:
            return resolve_url(settings.LOGOUT_REDIRECT_URL)
        return reverse("bugsink_issues:login")
