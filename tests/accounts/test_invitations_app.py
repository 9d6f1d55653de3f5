"""The issues app's invitations in a host without allauth (tests.settings): bound to the invited
address, expiring, single-use, e-mailed, and leading to the host's own sign-up and login."""

import re
from datetime import timedelta

import django
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from bugsink_issues import invitations
from bugsink_issues.models import Invitation, TeamMembership
from harness.processes import free_port
from tests.factories import make_team

pytestmark = pytest.mark.django_db


def make_user(name, email=None, **kwargs):
    return get_user_model().objects.create_user(name, email=email or "", password="pw", **kwargs)


@pytest.fixture
def team():
    return make_team("Shop", admins=[make_user("alice", "alice@example.com")])


def invite(client, team, email, role="member"):
    client.force_login(team.memberships.get().user)
    response = client.post(
        reverse("bugsink_issues:invitation_create", args=[team.pk]),
        {"email": email, "role": role},
        follow=True,
    )
    assert response.status_code == 200
    return Invitation.objects.filter(team=team).order_by("-pk").first(), response


def url_of(invitation):
    return reverse("bugsink_issues:invitation", args=[invitation.token])


def test_an_invitation_is_emailed_and_shown_with_its_link_and_expiry(client, team):
    invitation, response = invite(client, team, "Dave@Example.com")
    assert invitation.email == "dave@example.com"  # stored lower-case
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    link = f"http://testserver{url_of(invitation)}"
    body = response.content.decode()
    assert f"Invitation e-mailed to dave@example.com (valid 7 days): {link}" in body
    assert f'<code id="inv-{invitation.pk}">{link}</code>' in body  # copyable, with a Copy button
    [message] = mail.outbox
    assert message.to == ["dave@example.com"]
    assert "Shop" in message.subject and link in message.body
    assert "alice invited you" in message.body and "dave@example.com only, once" in message.body


@override_settings(BUGSINK_ISSUES_BASE_URL="https://errors.example.com")
def test_links_are_built_from_base_url_when_set(client, team):
    invitation, _ = invite(client, team, "dave@example.com")
    assert f"https://errors.example.com{url_of(invitation)}" in mail.outbox[0].body


@override_settings(BUGSINK_ISSUES_INVITATION_EMAIL=False)
def test_without_email_the_link_is_only_shown(client, team):
    invitation, response = invite(client, team, "dave@example.com")
    assert mail.outbox == []
    assert f"Send this link: http://testserver{url_of(invitation)}" in response.content.decode()


def test_a_failing_mail_server_leaves_the_link_to_copy(client, team):
    dead = {"host": "127.0.0.1", "port": free_port(), "timeout": 5}  # nothing listens there
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    if django.VERSION >= (6, 1):
        mailer = override_settings(MAILERS={"default": {"BACKEND": smtp, "OPTIONS": dead}})
    else:
        mailer = override_settings(
            EMAIL_BACKEND=smtp, EMAIL_HOST=dead["host"], EMAIL_PORT=dead["port"], EMAIL_TIMEOUT=5
        )
    with mailer:
        invitation, response = invite(client, team, "dave@example.com")
    assert invitation is not None and not invitation.is_used
    assert "could not be e-mailed; send this link yourself: http://testserver" in (
        response.content.decode()
    )


def test_inviting_again_replaces_the_pending_link_and_members_are_not_invited(client, team):
    first, _ = invite(client, team, "dave@example.com")
    second, _ = invite(client, team, "DAVE@example.com")
    assert not Invitation.objects.filter(pk=first.pk).exists()
    assert client.get(url_of(first)).status_code == 404
    assert client.get(url_of(second)).status_code in (200, 403)
    _, response = invite(client, team, "alice@example.com")
    assert "alice@example.com is a member of Shop already." in response.content.decode()
    assert not Invitation.objects.filter(email="alice@example.com").exists()


def test_revoking_and_who_may_revoke(client, team):
    invitation, _ = invite(client, team, "dave@example.com")
    carol = make_user("carol", "carol@example.com")
    TeamMembership.objects.create(team=team, user=carol, role="member")
    revoke = reverse("bugsink_issues:invitation_revoke", args=[team.pk, invitation.pk])
    client.force_login(carol)
    assert client.post(revoke).status_code == 403  # a member sees the team, may not manage it
    client.force_login(team.memberships.get(role="admin").user)
    assert client.post(revoke).status_code == 302
    assert client.get(url_of(invitation)).status_code == 404


def test_only_the_invited_address_can_accept(client, team):
    invitation, _ = invite(client, team, "dave@example.com")
    mallory = make_user("mallory", "mallory@example.com")
    nobody = make_user("nobody")  # no address at all
    for intruder in (mallory, nobody):
        client.force_login(intruder)
        page = client.get(url_of(invitation))
        assert page.status_code == 403
        assert "This invitation is for dave@example.com" in page.content.decode()
        assert client.post(url_of(invitation)).status_code == 403
        assert not TeamMembership.objects.filter(team=team, user=intruder).exists()
    invitation.refresh_from_db()
    assert not invitation.is_used

    dave = make_user("dave", "Dave@Example.COM")  # addresses compare case-insensitively
    client.force_login(dave)
    assert 'data-invitation-state="join"' in client.get(url_of(invitation)).content.decode()
    response = client.post(url_of(invitation))
    assert response.status_code == 302
    assert response["Location"] == reverse("bugsink_issues:team", args=[team.pk])
    assert TeamMembership.objects.get(team=team, user=dave).role == "member"
    invitation.refresh_from_db()
    assert invitation.accepted_by == dave and invitation.is_used


def test_an_invitation_is_single_use(client, team):
    invitation, _ = invite(client, team, "dave@example.com", role="admin")
    dave = make_user("dave", "dave@example.com")
    twin = make_user("dave2", "dave@example.com")  # plain Django allows a shared address
    client.force_login(dave)
    client.post(url_of(invitation))
    assert TeamMembership.objects.get(team=team, user=dave).role == "admin"
    # Its acceptor is sent on to the team; anyone else finds it used.
    assert client.get(url_of(invitation))["Location"].endswith(f"/teams/{team.pk}/")
    client.force_login(twin)
    for method in (client.get, client.post):
        response = method(url_of(invitation))
        assert response.status_code == 410
        assert "This invitation was used already." in response.content.decode()
    assert not TeamMembership.objects.filter(team=team, user=twin).exists()
    # The conditional claim: accepting an invitation read before it was used refuses too.
    stale = Invitation.objects.get(pk=invitation.pk)
    stale.accepted_at = None
    with pytest.raises(invitations.InvitationRefused) as refused:
        invitations.accept(stale, twin)
    assert refused.value.reason == "used"


def test_an_expired_invitation_is_refused(client, team):
    invitation, _ = invite(client, team, "dave@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    dave = make_user("dave", "dave@example.com")
    client.force_login(dave)
    for method in (client.get, client.post):
        response = method(url_of(invitation))
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
    assert not TeamMembership.objects.filter(team=team, user=dave).exists()
    # Gone from the admin's list of pending invitations too.
    client.force_login(team.memberships.get().user)
    page = client.get(reverse("bugsink_issues:team", args=[team.pk])).content.decode()
    assert "dave@example.com" not in page


@override_settings(BUGSINK_ISSUES_INVITATION_DAYS=2)
def test_the_validity_is_a_setting(client, team):
    invitation, _ = invite(client, team, "dave@example.com")
    assert timedelta(days=1, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=2)


@override_settings(BUGSINK_ISSUES_SIGNUP_URL="/host/signup/", LOGIN_URL="/host/login/")
def test_anonymous_visitors_are_led_to_the_hosts_signup_for_that_address(client, team):
    invitation, _ = invite(client, team, "dave@example.com")
    client.logout()
    page = client.get(url_of(invitation))
    assert page.status_code == 200
    body = page.content.decode()
    next_query = f"next=%2Finvitations%2F{invitation.token}%2F"
    assert f'href="/host/signup/?{next_query}"' in body
    assert "Create the account for dave@example.com" in body
    assert f'href="/host/login/?{next_query}"' in body
    # The host's sign-up can tell which invitation is being followed (and bind to its address).
    assert client.session[invitations.SESSION_KEY] == invitation.token
    # An anonymous POST accepts nothing.
    assert client.post(url_of(invitation)).status_code == 200
    invitation.refresh_from_db()
    assert not invitation.is_used

    # Once an account has that address, the page leads to the login only.
    make_user("dave", "dave@example.com")
    body = client.get(url_of(invitation)).content.decode()
    assert "/host/signup/" not in body and f'href="/host/login/?{next_query}"' in body


def test_without_a_signup_url_the_page_leads_to_the_login(client, team):
    invitation, _ = invite(client, team, "dave@example.com")
    client.logout()
    body = client.get(url_of(invitation)).content.decode()
    assert "Log in as dave@example.com" in body
    assert "ask an administrator to create one" in body
    assert not re.search(r"signup", body, re.I)


def test_pending_tells_a_signup_view_which_invitation_it_follows(rf, client, team):
    invitation, _ = invite(client, team, "dave@example.com")
    request = rf.get("/")
    request.session = client.session
    assert invitations.pending(request) is None
    invitations.remember(request, invitation)
    assert invitations.pending(request) == invitation
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    assert invitations.pending(request) is None  # used since: forgotten
    assert invitations.SESSION_KEY not in request.session


def proven_aliases(user):
    return [f"{user.username}@alias.example"]


@override_settings(BUGSINK_ISSUES_USER_EMAILS="tests.accounts.test_invitations_app.proven_aliases")
def test_which_addresses_count_is_the_hosts_choice(client, team):
    invitation, _ = invite(client, team, "dave@alias.example")
    impostor = make_user("impostor", "dave@alias.example")  # the field alone no longer counts
    client.force_login(impostor)
    assert client.post(url_of(invitation)).status_code == 403
    dave = make_user("dave")
    client.force_login(dave)
    assert client.post(url_of(invitation)).status_code == 302
    assert TeamMembership.objects.filter(team=team, user=dave).exists()


@override_settings(LOGIN_URL="/host/login/")
def test_the_apps_login_page_gives_way_to_a_hosts_login(client):
    response = client.get(reverse("bugsink_issues:login") + "?next=/teams/")
    assert response.status_code == 302 and response["Location"] == "/host/login/?next=%2Fteams%2F"
    # POSTing credentials to it logs nobody in.
    make_user("dave", "dave@example.com")
    client.post(reverse("bugsink_issues:login"), {"username": "dave", "password": "pw"})
    assert "_auth_user_id" not in client.session
