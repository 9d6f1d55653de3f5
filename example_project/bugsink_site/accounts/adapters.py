"""Who may sign up and how accounts are made: allauth's account adapter for the deployment.

Sign-up is closed (BUGSINK_OPEN_SIGNUP opens it) except for someone following an invitation, and
then only for the invited address, which counts as verified (the link was sent there, or handed
over by a team admin). Usernames are the e-mail addresses, as for the first-run admin. SSO: sso.py.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import user_email, user_username
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from bugsink_issues import invitations
from bugsink_site.accounts.emails import SELF_SIGNUP_MARK, trust_admin_set_address


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return settings.OPEN_SIGNUP or invitations.pending(request) is not None

    def is_email_verified(self, request, email):
        invitation = invitations.pending(request)
        if invitation is not None and invitation.email == email.strip().lower():
            return True
        return super().is_email_verified(request, email)

    def get_signup_redirect_url(self, request):
        team_id = getattr(request, "bugsink_joined_team_id", None)  # signals.join_invited_team
        if team_id is not None:
            return reverse("bugsink_issues:team", args=[team_id])
        return super().get_signup_redirect_url(request)

    def save_user(self, request, user, form, commit=True):
        setattr(user, SELF_SIGNUP_MARK, True)  # its address is verified by allauth, not trusted
        return super().save_user(request, user, form, commit=commit)

    def populate_username(self, request, user):
        email = (user_email(user) or "").lower()
        User = get_user_model()
        if email and len(email) <= 150 and not User.objects.filter(username=email).exists():
            user_username(user, email)
        else:
            super().populate_username(request, user)

    def pre_login(self, request, user, **kwargs):
        trust_admin_set_address(user)
        return super().pre_login(request, user, **kwargs)
