"""Attacks on team invitations against a real deployment: an invitation works for the address it
was sent to only (another account, another sign-up address: refused), until it expires, once
(two acceptances racing make one membership), and sign-up stays closed without one."""

import re
import secrets
import threading

import pytest

from harness.deployment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.accounts.site import (
    AddressedClient,
    create_user,
    mails,
    run_json,
    shell,
    start_site,
    wait_for_mail,
)

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

PASSWORD = "a long enough password 7"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = start_site(tmp_path_factory.mktemp("invitations"))
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="module")
def admin(site):
    client = AddressedClient(site)
    assert client.login(ADMIN_EMAIL, ADMIN_PASSWORD).url == "/"
    return client


@pytest.fixture(scope="module")
def team_id(site, admin):
    answer = admin.post_form("/teams/", {"name": "Payments"})
    found = re.fullmatch(r"/teams/(\d+)/", answer.url)
    assert found, answer.url
    return int(found.group(1))


def invite(site, admin, team_id, address) -> str:
    """The invitation's path, from the e-mail the deployment sent."""
    before = len(mails(site))
    answer = admin.post_form(
        f"/teams/{team_id}/invitations/",
        {"email": address, "role": "member"},
        form_path=f"/teams/{team_id}/",
    )
    assert f"Invitation e-mailed to {address}" in answer.text(), answer.text()[:2000]
    mail = wait_for_mail(site, address, "Payments", after=before)
    [link] = [link for link in mail.links() if "/invitations/" in link]
    return link.removeprefix(site.base_url)


def members(site, team_id) -> list[str]:
    return run_json(
        site,
        "import json; from bugsink_issues.models import TeamMembership; print(json.dumps(sorted("
        f"TeamMembership.objects.filter(team_id={team_id}).values_list('user__email', flat=True))))",
    )


def user_count(site, address) -> int:
    return run_json(
        site,
        "from django.contrib.auth import get_user_model; "
        f"print(get_user_model().objects.filter(email__iexact={address!r}).count())",
    )


def test_another_account_cannot_accept_it(site, admin, team_id):
    link = invite(site, admin, team_id, "victim@example.com")
    create_user(site, "mallory@example.com", PASSWORD)
    mallory = AddressedClient(site)
    mallory.login("mallory@example.com", PASSWORD)
    page = mallory.get(link)
    assert page.status == 403
    assert "This invitation is for victim@example.com" in page.text()
    answer = mallory.post_form(link, {})
    assert answer.status == 403
    assert "mallory@example.com" not in members(site, team_id)
    # Still good for its address.
    anonymous = AddressedClient(site)
    assert "Create the account for victim@example.com" in anonymous.get(link).text()


def test_its_signup_is_for_the_invited_address_only(site, admin, team_id):
    link = invite(site, admin, team_id, "newcomer@example.com")
    intruder = AddressedClient(site)
    intruder.get(link)  # following the link opens the sign-up, for that address
    form = intruder.get("/accounts/signup/")
    assert form.status == 200 and 'value="newcomer@example.com"' in form.body
    assert "readonly" in form.body
    # The read-only field is a courtesy; the server holds the address whatever is posted.
    answer = intruder.post_form(
        "/accounts/signup/",
        {"email": "intruder@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert "This sign-up is for newcomer@example.com, the invited address." in answer.text()
    assert user_count(site, "intruder@example.com") == 0
    assert "intruder@example.com" not in members(site, team_id)


def test_signup_is_closed_without_an_invitation(site):
    stranger = AddressedClient(site)
    page = stranger.get("/accounts/signup/")
    assert "Sign Up Closed" in page.text()
    token = stranger.csrf_token("/accounts/login/")
    stranger.request(
        "/accounts/signup/",
        {
            "csrfmiddlewaretoken": token,
            "email": "stranger@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert user_count(site, "stranger@example.com") == 0


def test_the_invited_signs_up_joins_and_the_link_is_spent(site, admin, team_id):
    link = invite(site, admin, team_id, "invitee@example.com")
    invitee = AddressedClient(site)
    invitee.get(link)
    answer = invitee.post_form(
        "/accounts/signup/",
        {"email": "invitee@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert answer.url == f"/teams/{team_id}/", (answer.url, answer.text()[:1500])
    assert "You joined Payments." in answer.text()
    assert "invitee@example.com" in members(site, team_id)
    verified = run_json(
        site,
        "from allauth.account.models import EmailAddress; "
        "import json; print(json.dumps(EmailAddress.objects.get(email='invitee@example.com').verified))",
    )
    assert verified is True  # the invitation proved it: no verification mail needed
    # Spent: anyone else who has the link finds it used.
    create_user(site, "latecomer@example.com", PASSWORD)
    other = AddressedClient(site)
    other.login("latecomer@example.com", PASSWORD)
    assert other.get(link).status == 410
    assert AddressedClient(site).get(link).status == 410  # anonymous: no sign-up either
    assert "latecomer@example.com" not in members(site, team_id)


def test_two_acceptances_racing_make_one_membership(site, admin, team_id):
    link = invite(site, admin, team_id, "twin@example.com")
    # Two accounts an administrator gave the same address (plain Django allows it).
    for name in ("twin-a", "twin-b"):
        shell(
            site,
            "from django.contrib.auth import get_user_model; get_user_model().objects."
            f"create_user({name!r}, email='twin@example.com', password={PASSWORD!r})",
        )
    clients = []
    for name in ("twin-a", "twin-b"):
        client = AddressedClient(site)
        # allauth logs in by e-mail; the address is shared, so the session is made in the shell.
        session = run_json(
            site,
            "import json; from django.contrib.auth import get_user_model; "
            "from django.contrib.sessions.backends.db import SessionStore; "
            "from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY; "
            f"u = get_user_model().objects.get(username={name!r}); s = SessionStore(); "
            "s[SESSION_KEY] = str(u.pk); "
            "s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'; "
            "s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.create(); "
            "print(json.dumps(s.session_key))",
        )
        client.cookies.set_cookie(_cookie("sessionid", session))
        assert client.is_logged_in()
        clients.append(client)
    tokens = [client.csrf_token(link) for client in clients]
    statuses = []
    barrier = threading.Barrier(2)

    def accept(client, token):
        barrier.wait(timeout=30)
        statuses.append(client.request(link, {"csrfmiddlewaretoken": token}, follow=False).status)

    threads = [
        threading.Thread(target=accept, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302, 410], statuses
    twins = run_json(
        site,
        "import json; from bugsink_issues.models import TeamMembership; print(json.dumps("
        f"TeamMembership.objects.filter(team_id={team_id}, user__email='twin@example.com')"
        ".count()))",
    )
    assert twins == 1


def test_an_expired_invitation_is_refused(site, admin, team_id):
    link = invite(site, admin, team_id, "late@example.com")
    token = link.rstrip("/").rsplit("/", 1)[1]
    shell(
        site,
        "from datetime import timedelta; from django.utils import timezone; "
        "from bugsink_issues.models import Invitation; "
        f"Invitation.objects.filter(token={token!r})"
        ".update(expires_at=timezone.now() - timedelta(seconds=1))",
    )
    create_user(site, "late@example.com", PASSWORD)
    late = AddressedClient(site)
    late.login("late@example.com", PASSWORD)
    page = late.get(link)
    assert page.status == 410 and "This invitation has expired" in page.text()
    assert late.post_form(link, {}, form_path="/").status == 410
    assert "late@example.com" not in members(site, team_id)
    anonymous = AddressedClient(site)
    assert anonymous.get(link).status == 410
    assert "Sign Up Closed" in anonymous.get("/accounts/signup/").text()  # no sign-up from it


def test_guessed_and_revoked_tokens_open_nothing(site, admin, team_id):
    guesser = AddressedClient(site)
    for _ in range(20):
        assert guesser.get(f"/invitations/{secrets.token_urlsafe(24)}/").status == 404
    link = invite(site, admin, team_id, "revoked@example.com")
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation_id = run_json(
        site,
        f"from bugsink_issues.models import Invitation; print(Invitation.objects.get(token={token!r}).pk)",
    )
    admin.post_form(
        f"/teams/{team_id}/invitations/{invitation_id}/revoke/", {}, form_path=f"/teams/{team_id}/"
    )
    assert AddressedClient(site).get(link).status == 404


def _cookie(name, value):
    import http.cookiejar

    return http.cookiejar.Cookie(
        0,
        name,
        value,
        None,
        False,
        "127.0.0.1",
        False,
        False,
        "/",
        True,
        False,
        None,
        True,
        None,
        None,
        {},
    )
