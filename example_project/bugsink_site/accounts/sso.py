"""SSO through an OpenID Connect provider (allauth.socialaccount, installed when one is configured).

The first SSO login creates the user (the provider decides who may log in), or logs into the user
who has the same address, verified (an administrator's address counts: emails.py). Users of the
domains in BUGSINK_OIDC_TEAM_DOMAINS join that domain's team.
"""

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings

from bugsink_site.accounts.emails import SELF_SIGNUP_MARK, trust_admin_set_address


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return True

    def save_user(self, request, sociallogin, form=None):
        setattr(sociallogin.user, SELF_SIGNUP_MARK, True)  # the provider says what is verified
        return super().save_user(request, sociallogin, form=form)

    def authenticate_by_email(self, sociallogin):
        found = super().authenticate_by_email(sociallogin)
        if found:
            # An admin-made account linked by its address keeps its password (see emails.py).
            trust_admin_set_address(found[0])
        return found


def join_teams_of_domain(sender, request, user, sociallogin=None, **kwargs):
    """An SSO login with a verified address of a listed domain makes the user a member of that
    domain's team (an existing membership keeps its role)."""
    if sociallogin is None or not settings.SSO_TEAM_DOMAINS:
        return
    from bugsink_issues.models import Team, TeamMembership

    domains = {
        address.email.rsplit("@", 1)[-1].lower()
        for address in sociallogin.email_addresses
        if address.verified and "@" in address.email
    }
    names = {settings.SSO_TEAM_DOMAINS[d] for d in domains if d in settings.SSO_TEAM_DOMAINS}
    for team in Team.objects.filter(name__in=names):
        TeamMembership.objects.get_or_create(team=team, user=user)
