"""The reference deployment's account system in headless Chromium: an invitation e-mail to a
sign-up to team membership, a password reset by e-mail, MFA enrolment and login with TOTP codes
computed here, and SSO against a real OpenID Connect provider (npm's oidc-provider) on loopback,
including a refused login with a wrong client secret.

E-mail is read from the deployment's log (its console backend), as a laptop install prints it.
"""

import re
import time

import pytest

from harness.deployment import ADMIN_EMAIL, ADMIN_PASSWORD, Deployment
from tests.accounts.site import (
    SSO_CALLBACK_PATH,
    AddressedClient,
    create_user,
    mails,
    oidc_provider,
    run_json,
    shell,
    start_site,
    totp,
    wait_for_mail,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = start_site(tmp_path_factory.mktemp("accounts-browser"))
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture
def new_page(chromium):
    contexts = []

    def make():
        context = chromium.new_context(viewport={"width": 1200, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for context in contexts:
        context.close()


def log_in(page, base, email, password):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form.bsk-form button[type=submit]")


def test_an_invitation_email_leads_to_signup_and_into_the_team(site, new_page, artifacts_dir):
    admin = new_page()
    log_in(admin, site.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin.wait_for_url(site.base_url + "/")
    admin.goto(site.base_url + "/teams/")
    admin.fill("input[name=name]", "Mobile")
    admin.click("text=Create team")
    admin.wait_for_selector("h1:has-text('Mobile')")
    team_path = admin.url.removeprefix(site.base_url)
    before = len(mails(site))
    admin.fill("input[name=email]", "new.dev@example.com")
    admin.click("button:has-text('Invite')")
    admin.wait_for_selector("text=Invitation e-mailed to new.dev@example.com")
    admin.screenshot(path=artifacts_dir / "1-invited.png", full_page=True)
    assert "new.dev@example.com" in admin.inner_text("table.bsk-invitations")

    mail = wait_for_mail(site, "new.dev@example.com", "Mobile", after=before)
    [link] = [link for link in mail.links() if "/invitations/" in link]
    assert link.startswith(site.base_url)

    invitee = new_page()
    invitee.goto(link)
    invitee.screenshot(path=artifacts_dir / "2-invitation.png", full_page=True)
    invitee.click("text=Create the account for new.dev@example.com")
    invitee.wait_for_selector("input[name=password1]")
    email_field = invitee.locator("input[name=email]")
    assert email_field.input_value() == "new.dev@example.com"
    assert email_field.get_attribute("readonly") is not None
    invitee.fill("input[name=password1]", PASSWORD)
    invitee.fill("input[name=password2]", PASSWORD)
    invitee.screenshot(path=artifacts_dir / "3-signup.png", full_page=True)
    invitee.click("form.bsk-form button[type=submit]")
    invitee.wait_for_url(site.base_url + team_path)
    invitee.wait_for_selector("text=You joined Mobile")
    invitee.screenshot(path=artifacts_dir / "4-joined.png", full_page=True)
    assert "new.dev@example.com" in invitee.inner_text("table.bsk-table")
    # The same link now only sends its acceptor to the team; the admin's list has no more of it.
    admin.reload()
    assert admin.locator("table.bsk-invitations").count() == 0


def test_password_reset_by_email(site, new_page, artifacts_dir):
    create_user(site, "forgetful@example.com", "the old password 1")
    page = new_page()
    page.goto(site.base_url + "/accounts/login/")
    page.click("text=Forgot your password?")
    page.fill("input[name=email]", "forgetful@example.com")
    before = len(mails(site))
    page.click("form.bsk-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/password/reset/done/$"))
    mail = wait_for_mail(site, "forgetful@example.com", "Password Reset", after=before)
    [link] = [link for link in mail.links() if "/password/reset/key/" in link]

    page.goto(link)
    page.wait_for_selector("input[name=password1]")
    page.fill("input[name=password1]", "the new password 2")
    page.fill("input[name=password2]", "the new password 2")
    page.screenshot(path=artifacts_dir / "1-new-password.png", full_page=True)
    page.click("form.bsk-form button[type=submit]")
    page.wait_for_selector("text=Your password is now changed.")

    old = new_page()
    log_in(old, site.base_url, "forgetful@example.com", "the old password 1")
    old.wait_for_selector("text=The email address and/or password you specified are not correct.")
    fresh = new_page()
    log_in(fresh, site.base_url, "forgetful@example.com", "the new password 2")
    fresh.wait_for_url(site.base_url + "/")
    # The link was for one use.
    fresh.goto(link)
    fresh.wait_for_selector("text=Bad Token")


def test_mfa_enrolment_and_login_with_totp(site, new_page, artifacts_dir):
    create_user(site, "careful@example.com", PASSWORD)
    page = new_page()
    log_in(page, site.base_url, "careful@example.com", PASSWORD)
    page.wait_for_url(site.base_url + "/")
    page.goto(site.base_url + "/accounts/2fa/")
    page.click("text=Activate")
    # Setting up a second factor asks for the password again (allauth's reauthentication).
    page.wait_for_url(re.compile(r".*/accounts/reauthenticate/.*"))
    page.fill("input[name=password]", PASSWORD)
    page.click("form.bsk-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/$"))
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    page.screenshot(path=artifacts_dir / "1-activate.png", full_page=True)
    page.fill("input[name=code]", "000000" if totp(secret) != "000000" else "111111")
    page.click("form.bsk-form button[type=submit]")
    page.wait_for_selector("text=Incorrect code.")
    enrolled_at = time.time()
    page.fill("input[name=code]", totp(secret, enrolled_at))
    page.click("form.bsk-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/2fa/recovery-codes/.*"))
    page.screenshot(path=artifacts_dir / "2-recovery-codes.png", full_page=True)
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10 and all(re.fullmatch(r"\w{8}", code) for code in codes), codes

    # The password alone no longer logs in: a code is asked for, a wrong one refused.
    other = new_page()
    log_in(other, site.base_url, "careful@example.com", PASSWORD)
    other.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/$"))
    # Half logged in is not logged in: the UI sends back to the code.
    assert other.goto(site.base_url + "/").url.endswith("/accounts/2fa/authenticate/")
    other.fill("input[name=code]", str((int(totp(secret)) + 1) % 1_000_000).zfill(6))
    other.click("form.bsk-form button[type=submit]")
    other.wait_for_selector("text=Incorrect code.")
    # A code is good once: wait for the next period after the enrolment's code.
    while int(time.time() // 30) == int(enrolled_at // 30):
        time.sleep(0.5)
    other.fill("input[name=code]", totp(secret))
    other.click("form.bsk-form button[type=submit]")
    other.wait_for_url(site.base_url + "/")
    other.screenshot(path=artifacts_dir / "3-logged-in.png", full_page=True)

    # A recovery code works instead of the app, once.
    third = new_page()
    log_in(third, site.base_url, "careful@example.com", PASSWORD)
    third.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/$"))
    third.fill("input[name=code]", codes[0])
    third.click("form.bsk-form button[type=submit]")
    third.wait_for_url(site.base_url + "/")


def test_sso_through_a_real_openid_connect_provider(tmp_path, new_page, artifacts_dir):
    site = Deployment(tmp_path / "data", env={"EMAIL_HOST": ""})
    client = {
        "client_id": "bugsink",
        "client_secret": "the-right-secret",
        "redirect_uris": [site.base_url + SSO_CALLBACK_PATH],
    }
    with oidc_provider(tmp_path, [client]) as provider:
        site.env.update(
            BUGSINK_OIDC_ISSUER=provider.issuer,
            BUGSINK_OIDC_CLIENT_ID="bugsink",
            BUGSINK_OIDC_CLIENT_SECRET="the-right-secret",
            BUGSINK_OIDC_NAME="Corp SSO",
            BUGSINK_OIDC_TEAM_DOMAINS="corp.example=Corp team",
        )
        site.start()
        try:
            shell(
                site,
                "from bugsink_issues.models import Team; Team.objects.create(name='Corp team')",
            )

            # First login: the user is created, and joins the team of its domain.
            page = sso_login(new_page(), site, "alice@corp.example", artifacts_dir)
            page.wait_for_url(site.base_url + "/")
            page.screenshot(path=artifacts_dir / "4-logged-in.png", full_page=True)
            assert "alice@corp.example" in page.inner_text("header")
            page.goto(site.base_url + "/teams/")
            assert "Corp team" in page.inner_text(".bsk-main")
            alice = run_json(
                site,
                "import json; from django.contrib.auth import get_user_model; "
                "from allauth.socialaccount.models import SocialAccount; "
                "u = get_user_model().objects.get(email='alice@corp.example'); "
                "print(json.dumps([u.username, SocialAccount.objects.get(user=u).uid, "
                "u.has_usable_password()]))",
            )
            assert alice == ["alice@corp.example", "alice@corp.example", False]

            # An address a user has already (the admin's) logs into that user, who keeps its
            # password.
            page = sso_login(new_page(), site, ADMIN_EMAIL, artifacts_dir / "admin")
            page.wait_for_url(site.base_url + "/")
            count = run_json(
                site,
                "from django.contrib.auth import get_user_model; "
                f"print(get_user_model().objects.filter(email__iexact={ADMIN_EMAIL!r}).count())",
            )
            assert count == 1
            password_login = new_page()
            log_in(password_login, site.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
            password_login.wait_for_url(site.base_url + "/")

            # A wrong client secret: the provider refuses the code exchange, nobody logs in.
            site.stop()
            site.env["BUGSINK_OIDC_CLIENT_SECRET"] = "a-wrong-secret"
            site.start()
            page = sso_login(new_page(), site, "bob@corp.example", artifacts_dir / "wrong")
            page.wait_for_selector("text=Third-Party Login Failure")
            page.screenshot(path=artifacts_dir / "5-wrong-secret.png", full_page=True)
            page.goto(site.base_url + "/")
            assert page.url.startswith(site.base_url + "/accounts/login/")
            count = run_json(
                site,
                "from django.contrib.auth import get_user_model; "
                "print(get_user_model().objects.filter(email='bob@corp.example').count())",
            )
            assert count == 0
            assert "grant.error invalid_client" in provider.log()  # refused by the provider

            # SSO only: no password form, a password posted anyway logs nobody in.
            site.stop()
            site.env.update(BUGSINK_OIDC_CLIENT_SECRET="the-right-secret", BUGSINK_SSO_ONLY="1")
            site.start()
            page = new_page()
            page.goto(site.base_url + "/accounts/login/")
            assert page.locator("input[name=password]").count() == 0
            assert page.locator("text=Log in with Corp SSO").count() == 1
            client = AddressedClient(site)
            client.post_form(
                "/accounts/login/",
                {"login": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                form_path="/accounts/oidc/sso/login/",
            )
            assert not client.is_logged_in()
            page = sso_login(new_page(), site, "carol@corp.example", artifacts_dir / "only")
            page.wait_for_url(site.base_url + "/")
            assert "carol@corp.example" in page.inner_text("header")
        finally:
            site.stop()


def sso_login(page, site, login, artifacts):
    artifacts.mkdir(parents=True, exist_ok=True)
    page.goto(site.base_url + "/accounts/login/")
    page.click("text=Log in with Corp SSO")
    page.wait_for_selector("button:has-text('Continue')")  # allauth asks before it leaves
    page.click("button:has-text('Continue')")
    page.wait_for_selector("input[name=login]")  # the provider's own login page
    page.screenshot(path=artifacts / "1-provider-login.png", full_page=True)
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the test provider takes any")
    page.click("button:has-text('Sign-in')")
    page.wait_for_selector("button:has-text('Continue')")  # the provider's consent
    page.click("button:has-text('Continue')")
    page.wait_for_load_state()
    return page
