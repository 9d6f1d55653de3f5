"""Password guessing against a real deployment (Gunicorn, two workers): every login form of it
refuses further attempts after a few failures, per account and per client address, with a message.

The attacks come from loopback addresses of their own (127.0.0.0/8), so each client address has a
history of its own; the limits are the deployment's defaults (5 failures per account, 20 per
address, in 15 minutes) except where a test says otherwise.
"""

import re
import threading

import pytest

from harness.deployment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.accounts.site import (
    TOO_MANY_FAILURES,
    WRONG_PASSWORD,
    AddressedClient,
    create_user,
    start_site,
    totp,
)

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

PASSWORD = "the right password, 42"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = start_site(tmp_path_factory.mktemp("throttling"))
    try:
        for name in ("victim", "parallel", "admin-guess"):
            create_user(site, f"{name}@example.com", PASSWORD)
        yield site
    finally:
        site.stop()


def outcome(answer) -> str:
    """What the server made of one login attempt."""
    if answer.status == 429:
        return "refused"  # allauth's limit on all login POSTs of an address
    text = answer.text()
    if TOO_MANY_FAILURES in text:
        return "refused"
    if WRONG_PASSWORD in text:
        return "wrong"
    if answer.status == 200 and answer.url == "/":
        return "logged in"
    return f"unexpected {answer.status} {answer.url}: {text[:300]}"


def test_forty_wrong_passwords_for_one_account_get_five_answers(site):
    attacker = AddressedClient(site, "127.0.0.2")
    outcomes = [outcome(attacker.login("victim@example.com", f"guess {n}")) for n in range(40)]
    assert outcomes[:5] == ["wrong"] * 5, outcomes
    assert outcomes[5:] == ["refused"] * 35, outcomes
    # While it lasts the right password is refused as well, from any address: guesses cannot
    # be confirmed, and the account is locked for everyone, not for one address.
    for address in ("127.0.0.2", "127.0.0.9"):
        client = AddressedClient(site, address)
        assert outcome(client.login("victim@example.com", PASSWORD)) == "refused"
        assert not client.is_logged_in()
    # Another account is not locked by it (from a fresh address).
    create_user(site, "bystander@example.com", PASSWORD)
    assert outcome(
        AddressedClient(site, "127.0.0.10").login("bystander@example.com", PASSWORD)
    ) == ("logged in")


def test_one_address_trying_many_accounts_is_refused_after_twenty(site):
    sprayer = AddressedClient(site, "127.0.0.3")
    outcomes = [outcome(sprayer.login(f"user{n}@example.com", "Winter2026!")) for n in range(25)]
    assert outcomes[:20] == ["wrong"] * 20, outcomes
    assert outcomes[20:] == ["refused"] * 5, outcomes
    # The address is refused for a real account with its right password too...
    create_user(site, "colleague@example.com", PASSWORD)
    assert outcome(sprayer.login("colleague@example.com", PASSWORD)) == "refused"
    # ...while the same account logs in from another address.
    other = AddressedClient(site, "127.0.0.4")
    assert outcome(other.login("colleague@example.com", PASSWORD)) == "logged in"


def test_parallel_guesses_do_not_slip_past_the_limit(site):
    """Twenty guesses at once, from one address, at one account: the counting is atomic across
    Gunicorn's workers and threads (the cache is a database table), so five are checked at most."""
    results = []

    def guess(n):
        client = AddressedClient(site, "127.0.0.5")
        token = client.csrf_token("/accounts/login/")
        barrier.wait(timeout=30)
        answer = client.request(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "login": "parallel@example.com", "password": f"p{n}"},
        )
        results.append(outcome(answer))

    barrier = threading.Barrier(20)
    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 20, results
    assert results.count("wrong") <= 5, results
    assert set(results) <= {"wrong", "refused"}, results
    assert results.count("refused") >= 15, results


def test_the_admin_and_the_ui_have_no_login_form_of_their_own(site):
    client = AddressedClient(site, "127.0.0.6")
    for path in ("/admin/login/?next=/admin/", "/login/?next=/admin/"):
        answer = client.get(path, follow=False)
        assert answer.status == 302, (path, answer)
        assert answer.location.startswith("/accounts/login/?next="), answer.location
    # Credentials POSTed straight to them log nobody in (they redirect, checking nothing).
    token = client.csrf_token("/accounts/login/")
    for path in ("/admin/login/", "/login/"):
        answer = client.request(
            path,
            {"csrfmiddlewaretoken": token, "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        )
        assert answer.url.startswith("/accounts/login/"), answer.url
        assert not client.is_logged_in()
    # So guessing at the admin meets the same limit, and the admin opens only after a login.
    guesser = AddressedClient(site, "127.0.0.7")
    outcomes = [outcome(guesser.login("admin-guess@example.com", f"g{n}")) for n in range(7)]
    assert outcomes == ["wrong"] * 5 + ["refused"] * 2, outcomes
    admin = AddressedClient(site, "127.0.0.8")
    assert outcome(admin.login(ADMIN_EMAIL, ADMIN_PASSWORD)) == "logged in"
    answer = admin.get("/admin/")
    assert answer.status == 200 and answer.url == "/admin/" and "Log out" in answer.body


def test_guessing_the_second_factor_meets_the_same_limit(site):
    """A stolen password gets the attacker to the code prompt; 6 digits are not guessed there."""
    create_user(site, "second.factor@example.com", PASSWORD)
    owner = AddressedClient(site, "127.0.0.12")
    owner.login("second.factor@example.com", PASSWORD)
    owner.post_form(
        "/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/", {"password": PASSWORD}
    )
    page = owner.get("/accounts/2fa/totp/activate/")
    secret = re.search(r'value="([A-Z2-7]{16,})"', page.body).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1)
    enrolled = owner.request(
        "/accounts/2fa/totp/activate/", {"csrfmiddlewaretoken": token, "code": totp(secret)}
    )
    assert enrolled.url.startswith("/accounts/2fa/recovery-codes/"), enrolled.text()[:1000]

    attacker = AddressedClient(site, "127.0.0.13")
    assert (
        attacker.login("second.factor@example.com", PASSWORD).url == "/accounts/2fa/authenticate/"
    )
    right = totp(secret)
    wrong = [f"{(int(right) + n) % 1_000_000:06d}" for n in range(1, 9)]
    answers = [
        attacker.post_form("/accounts/2fa/authenticate/", {"code": code}).text() for code in wrong
    ]
    outcomes = [
        "refused" if TOO_MANY_FAILURES in a else "wrong" if "Incorrect code." in a else a[:300]
        for a in answers
    ]
    assert outcomes == ["wrong"] * 5 + ["refused"] * 3, outcomes
    # Meanwhile even the right code is refused, unchecked.
    answer = attacker.post_form("/accounts/2fa/authenticate/", {"code": totp(secret)})
    assert TOO_MANY_FAILURES in answer.text()
    assert not attacker.is_logged_in()


def test_the_lockout_ends(tmp_path):
    """With a short window (BUGSINK_LOGIN_LOCKOUT_SECONDS) the account opens again by itself."""
    site = start_site(
        tmp_path,
        BUGSINK_LOGIN_FAILURES_PER_ACCOUNT="2",
        BUGSINK_LOGIN_LOCKOUT_SECONDS="8",
    )
    try:
        create_user(site, "patient@example.com", PASSWORD)
        client = AddressedClient(site, "127.0.0.11")
        outcomes = [outcome(client.login("patient@example.com", f"g{n}")) for n in range(3)]
        assert outcomes == ["wrong", "wrong", "refused"], outcomes
        assert outcome(client.login("patient@example.com", PASSWORD)) == "refused"
        from harness.processes import wait_for

        wait_for(
            lambda: outcome(client.login("patient@example.com", PASSWORD)) == "logged in",
            timeout=60,
            interval=2,
            what="the lockout to end",
        )
    finally:
        site.stop()
