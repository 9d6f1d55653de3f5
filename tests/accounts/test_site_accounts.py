"""The reference deployment's account system: its configuration from the environment, sign-up
closed or open, the installation-wide MFA requirement, sessions listed and ended, the worker's
links, every variable named in the README, and the idle memory with the accounts loaded."""

import re
import sys
import urllib.request
import uuid

import pytest

from harness import procstats
from harness.deployment import ADMIN_EMAIL, ADMIN_PASSWORD
from harness.processes import ROOT
from tests.accounts.site import (
    AddressedClient,
    create_user,
    mails,
    run_json,
    start_site,
    totp,
    wait_for_mail,
)
from tests.e2e.test_site_config import load_site_settings, run_site_python

sys.path.insert(0, str(ROOT / "example_project"))

from bugsink_site.accounts import config

PASSWORD = "a long enough password 9"


# --- configuration ------------------------------------------------------------------------------


def test_oidc_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv("BUGSINK_OIDC_ISSUER", raising=False)
    assert config.oidc_from_env() is None
    monkeypatch.setenv("BUGSINK_OIDC_ISSUER", "https://id.example.com/realms/corp/")
    monkeypatch.setenv("BUGSINK_OIDC_CLIENT_ID", "bugsink")
    with pytest.raises(ValueError, match="BUGSINK_OIDC_CLIENT_SECRET"):
        config.oidc_from_env()
    monkeypatch.setenv("BUGSINK_OIDC_CLIENT_SECRET", "s3cret")
    assert config.oidc_from_env() == {
        "provider_id": "sso",
        "name": "SSO",
        "client_id": "bugsink",
        "secret": "s3cret",
        "settings": {"server_url": "https://id.example.com/realms/corp"},
    }
    monkeypatch.setenv("BUGSINK_OIDC_NAME", "Corp login")
    assert config.oidc_from_env()["name"] == "Corp login"


def test_team_domains_and_rates_are_checked():
    assert config.team_domains("") == {}
    assert config.team_domains(" Example.com=Backend , @corp.example = Ops team") == {
        "example.com": "Backend",
        "corp.example": "Ops team",
    }
    with pytest.raises(ValueError, match="not domain=Team"):
        config.team_domains("example.com")
    assert (
        config.login_failed_rate(per_account=5, per_address=20, seconds=900)
        == "20/900s/ip,5/900s/key"
    )
    with pytest.raises(ValueError):
        config.login_failed_rate(per_account=0, per_address=20, seconds=900)


def test_sso_only_needs_a_provider_and_leaves_mfa_to_it(monkeypatch):
    monkeypatch.setenv("BUGSINK_SSO_ONLY", "1")
    with pytest.raises(ValueError, match="BUGSINK_OIDC_ISSUER"):
        config.sso_only(None, False)
    with pytest.raises(ValueError, match="identity provider"):
        config.sso_only({"provider_id": "sso"}, True)
    assert config.sso_only({"provider_id": "sso"}, False) is True


def test_the_default_settings(tmp_path):
    s = load_site_settings(tmp_path)
    assert (
        s["LOGIN_URL"] == "account_login" and s["ACCOUNT_LOGIN_METHODS"] == "{'email'}"
    )  # a set, as text
    assert s["OPEN_SIGNUP"] is False and s["ACCOUNT_EMAIL_VERIFICATION"] == "mandatory"
    assert "allauth.mfa" in s["INSTALLED_APPS"] and "allauth.usersessions" in s["INSTALLED_APPS"]
    assert s["MFA_SUPPORTED_TYPES"] == ["totp", "recovery_codes"]
    # No provider configured: allauth.socialaccount is not loaded at all.
    assert not [app for app in s["INSTALLED_APPS"] if "socialaccount" in app]
    assert s["ACCOUNT_RATE_LIMITS"] == {"login_failed": "20/900s/ip,5/900s/key"}
    assert s["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert s["BUGSINK_ISSUES_SIGNUP_URL"] == "account_signup"


def test_sso_and_its_variants_in_settings(tmp_path):
    oidc = {
        "BUGSINK_OIDC_ISSUER": "https://id.example.com",
        "BUGSINK_OIDC_CLIENT_ID": "bugsink",
        "BUGSINK_OIDC_CLIENT_SECRET": "s3cret",
    }
    s = load_site_settings(tmp_path, **oidc, BUGSINK_MFA_WEBAUTHN="1", BEHIND_PROXY="1")
    assert "allauth.socialaccount.providers.openid_connect" in s["INSTALLED_APPS"]
    [app] = s["SOCIALACCOUNT_PROVIDERS"]["openid_connect"]["APPS"]
    assert (
        app["provider_id"] == "sso" and app["settings"]["server_url"] == oidc["BUGSINK_OIDC_ISSUER"]
    )
    assert s["MFA_SUPPORTED_TYPES"] == ["totp", "recovery_codes", "webauthn"]
    assert s["ALLAUTH_TRUSTED_PROXY_COUNT"] == 1
    worker = load_site_settings(tmp_path, **oidc, BUGSINK_PROCESS="worker")
    assert not [app for app in worker["INSTALLED_APPS"] if "socialaccount" in app]
    only = load_site_settings(tmp_path, **oidc, BUGSINK_SSO_ONLY="1")
    assert only["SOCIALACCOUNT_ONLY"] is True and "allauth.mfa" not in only["INSTALLED_APPS"]
    assert only["ACCOUNT_EMAIL_VERIFICATION"] == "none"
    assert only["BUGSINK_ISSUES_SIGNUP_URL"] is None


def test_a_half_configured_provider_stops_the_start(tmp_path):
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", "import bugsink_site.settings"],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT / "example_project"),
            "BUGSINK_OIDC_ISSUER": "https://id.example.com",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "BUGSINK_OIDC_CLIENT_ID and BUGSINK_OIDC_CLIENT_SECRET are needed" in result.stderr


def test_every_variable_the_deployment_reads_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    names = set()
    for path in (ROOT / "example_project").rglob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"os\.environ(?:\.get)?[\[(]\s*\"([A-Z][A-Z0-9_]+)\"", text))
        names |= set(re.findall(r"env(?:iron)?\.?\w*\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
        names |= set(re.findall(r"env_(?:bool|int|float|list)\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
    # Set by the deployment for its own children, or Django's and Python's own.
    names -= {
        *("DJANGO_SETTINGS_MODULE", "BUGSINK_BIND", "BUGSINK_PROCESS"),
        *("PYTHONUNBUFFERED", "PYTHONPATH"),
    }
    assert len(names) > 30, names
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"not named in README.md: {missing}"


def test_the_worker_resolves_the_sites_links_without_allauth(tmp_path):
    code = (
        "import json, sys, django; django.setup(); from django.urls import reverse; "
        "links = [reverse(n, args=a, urlconf=u) for u in ('bugsink_site.urls', "
        "'bugsink_site.worker_urls') for n, a in (('bugsink_issues:issue', [7]), "
        "('bugsink_issues:project_issues', [3]))]; "
        "import bugsink_site.worker_urls; reverse('bugsink_issues:issue', args=[1], "
        "urlconf='bugsink_site.worker_urls'); "
        "print(json.dumps([links, 'allauth.account.views' in sys.modules]))"
    )
    # In a process that never imported the site's URLconf: does the worker's pull in allauth?
    worker_only = (
        "import json, sys, django; django.setup(); from django.urls import reverse; "
        "link = reverse('bugsink_issues:issue', args=[7], urlconf='bugsink_site.worker_urls'); "
        "print(json.dumps([link, sorted(m for m in sys.modules if m.startswith('allauth') "
        "and m.endswith('views'))]))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "bugsink_site.settings"}
    links, _ = run_site_python(tmp_path, code, **env)
    assert links[:2] == links[2:] == ["/issues/7/", "/projects/3/"]
    link, views = run_site_python(tmp_path, worker_only, **env)
    assert link == "/issues/7/" and views == []


# --- against the running deployment -------------------------------------------------------------


@pytest.fixture(scope="module")
def strict_site(tmp_path_factory):
    """Open sign-up and MFA required, together (each test looks at one of them)."""
    site = start_site(
        tmp_path_factory.mktemp("strict"), BUGSINK_OPEN_SIGNUP="1", BUGSINK_REQUIRE_MFA="1"
    )
    try:
        yield site
    finally:
        site.stop()


@pytest.mark.e2e
def test_open_signup_verifies_the_address_before_the_first_login(strict_site):
    site = strict_site
    client = AddressedClient(site)
    page = client.get("/accounts/login/")
    assert 'href="/accounts/signup/"' in page.body  # offered only where sign-up is open
    before = len(mails(site))
    answer = client.post_form(
        "/accounts/signup/",
        {"email": "Self.Made@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert "Verify Your Email Address" in answer.text()
    assert not client.is_logged_in()
    mail = wait_for_mail(site, "self.made@example.com", "Confirm", after=before)
    [link] = [link for link in mail.links() if "/confirm-email/" in link]
    confirm = link.removeprefix(site.base_url)
    client.post_form(confirm, {})
    # Its username is its address, as for every account here.
    assert (
        run_json(
            site,
            "from django.contrib.auth import get_user_model; import json; print(json.dumps("
            "get_user_model().objects.get(email='self.made@example.com').username))",
        )
        == "self.made@example.com"
    )


@pytest.mark.e2e
def test_required_mfa_holds_every_page_until_a_second_factor_is_set(strict_site):
    site = strict_site
    create_user(site, "must.enrol@example.com", PASSWORD)
    client = AddressedClient(site)
    assert client.login("must.enrol@example.com", PASSWORD).url == "/accounts/2fa/"
    for path in ("/", "/teams/", "/preferences/", "/admin/"):
        answer = client.get(path)
        assert answer.url == "/accounts/2fa/", (path, answer.url)
    assert "requires two-factor authentication" in client.get("/").text()
    # The account pages stay open: the second factor is set up there.
    client.post_form(
        "/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/", {"password": PASSWORD}
    )
    page = client.get("/accounts/2fa/totp/activate/")
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.body)
    secret = secret or re.search(
        r'value="([A-Z2-7]{16,})"[^>]*id="authenticator_secret"', page.body
    )
    assert secret, page.body[:3000]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1)
    answer = client.request(
        "/accounts/2fa/totp/activate/",
        {"csrfmiddlewaretoken": token, "code": totp(secret.group(1))},
    )
    assert answer.url.startswith("/accounts/2fa/recovery-codes/"), answer.text()[:2000]
    answer = client.get("/")
    assert answer.status == 200 and answer.url == "/", answer.url


@pytest.mark.e2e
def test_sessions_are_listed_and_the_others_can_be_ended(strict_site):
    site = strict_site
    create_user(site, "two.laptops@example.com", PASSWORD, is_superuser=False)
    # An account with MFA required but no second factor can still manage its sessions.
    first, second = AddressedClient(site, "127.0.0.21"), AddressedClient(site, "127.0.0.22")
    for client in (first, second):
        client.login("two.laptops@example.com", PASSWORD)
    page = first.get("/accounts/sessions/")
    assert page.status == 200
    assert "127.0.0.21" in page.body and "127.0.0.22" in page.body
    first.post_form("/accounts/sessions/", {})
    assert "127.0.0.22" not in first.get("/accounts/sessions/").body
    assert second.get("/accounts/sessions/", follow=False).status == 302  # logged out


# --- memory -------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_webauthn_library_stays_unloaded_while_webauthn_is_off(tmp_path):
    """After 50 events and a tour of the account pages, no process of the deployment has mapped
    WebAuthn's library (fido2, cryptography: some 13 MiB per web process) while WebAuthn is off.
    The idle memory itself is measured by `python -m benchmarks e2e`, not asserted here."""
    site = start_site(tmp_path)
    try:
        dsn = site.dsn
        from tests.e2e.load import envelope_for

        for n in range(50):
            request = urllib.request.Request(
                site.base_url + dsn.envelope_path,
                data=envelope_for(uuid.uuid4().hex, f"idle {n}"),
                headers={"X-Sentry-Auth": f"Sentry sentry_key={dsn.public_key}, sentry_version=7"},
            )
            urllib.request.urlopen(request, timeout=10).read()
        for _ in range(2):  # both workers, likely
            client = AddressedClient(site)
            assert client.login(ADMIN_EMAIL, ADMIN_PASSWORD).url == "/"
            for path in (
                "/",
                "/accounts/email/",
                "/accounts/2fa/",
                "/accounts/sessions/",
                "/preferences/notifications/",
                f"/projects/{site.demo_project_id()}/",
            ):
                assert client.get(path).status == 200, path
        samples = procstats.sample_tree(site.pid)
        assert {s.role for s in samples} >= {"gunicorn master", "gunicorn worker", "foreman"}
        for sample in samples:
            with open(f"/proc/{sample.pid}/maps") as maps:
                assert "cryptography" not in maps.read(), f"{sample.role} loaded cryptography"
    finally:
        site.stop()
