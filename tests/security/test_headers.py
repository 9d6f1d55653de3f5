"""What the UI's responses tell the browser: a Content-Security-Policy on every page (set by the
app, so a host site that mounts the UI gets it too), and in the reference deployment HSTS and
secure cookies when BASE_URL is https."""

import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import reverse

from harness.deployment import ADMIN_EMAIL, ADMIN_PASSWORD, Deployment
from harness.processes import ROOT

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    parts = [p.strip().split(None, 1) for p in header.split(";") if p.strip()]
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def assert_strict_policy(header: str | None):
    assert header, "no Content-Security-Policy"
    found = directives(header)
    for name, value in REQUIRED.items():
        assert found.get(name) == value, (name, header)
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


# --- the app in a host site (tests.settings composes the apps as a host would) ---------------------


@pytest.fixture
def ui_world(db, django_capture_on_commit_callbacks):
    from bugsink_issues.digest import digest_batch
    from bugsink_issues.models import Event
    from tests.factories import make_project, make_team, make_user, python_exception, spooled

    root = make_user("root", superuser=True)
    team = make_team("Ops", admins=[root])
    project = make_project("Shop", team=team)
    with django_capture_on_commit_callbacks(execute=True):
        digest_batch([spooled(project, python_exception("KeyError", "'user'"))])
    event = Event.objects.get()
    return {"root": root, "team": team, "project": project, "issue": event.issue, "event": event}


def ui_pages(world):
    issue, project = world["issue"], world["project"]
    return [
        reverse("bugsink_issues:projects"),
        reverse("bugsink_issues:all_issues"),
        reverse("bugsink_issues:project_issues", args=[project.pk]),
        reverse("bugsink_issues:project_settings", args=[project.pk]),
        reverse("bugsink_issues:project_setup", args=[project.pk]),
        reverse("bugsink_issues:issue", args=[issue.pk]),
        reverse("bugsink_issues:event", args=[issue.pk, world["event"].pk]),
        reverse("bugsink_issues:teams"),
        reverse("bugsink_issues:team", args=[world["team"].pk]),
        reverse("bugsink_issues:preferences"),
    ]


def test_every_ui_page_carries_the_policy_in_a_host_site(client, ui_world):
    response = client.get(reverse("bugsink_issues:login"))
    assert response.status_code == 200
    assert_strict_policy(response.headers.get("Content-Security-Policy"))
    client.force_login(ui_world["root"])
    for path in ui_pages(ui_world):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict_policy(response.headers.get("Content-Security-Policy"))
    # Not only pages: the redirect after an action too.
    response = client.post(
        reverse("bugsink_issues:issue_action", args=[ui_world["issue"].pk]), {"action": "resolve"}
    )
    assert response.status_code == 302
    assert_strict_policy(response.headers.get("Content-Security-Policy"))


def test_no_template_of_the_ui_has_inline_script_handlers_or_styles():
    """What the policy would block, so what the UI must not contain (e-mail templates aside)."""
    templates = ROOT / "packages/django-bugsink-issues/src/bugsink_issues/templates/bugsink_issues"
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.IGNORECASE
    )
    offenders = [
        f"{path.relative_to(templates)}: {match.group()}"
        for path in sorted(templates.rglob("*.html"))
        if "alerts" not in path.parts
        for match in inline.finditer(path.read_text())
    ]
    assert offenders == []


@override_settings(BUGSINK_ISSUES_UI_CONTENT_SECURITY_POLICY=None)
def test_a_host_can_turn_the_header_off(client, ui_world):
    client.force_login(ui_world["root"])
    assert "Content-Security-Policy" not in client.get(reverse("bugsink_issues:teams")).headers


@override_settings(
    BUGSINK_ISSUES_UI_CONTENT_SECURITY_POLICY={
        "default-src": ["'self'"],
        "script-src": ["'self'", "https://cdn.example.com"],
    }
)
def test_a_host_can_extend_the_policy_and_a_response_keeps_its_own(client, ui_world):
    from bugsink_issues.ui.csp import content_security_policy

    client.force_login(ui_world["root"])
    header = client.get(reverse("bugsink_issues:teams")).headers["Content-Security-Policy"]
    assert header == "default-src 'self'; script-src 'self' https://cdn.example.com"

    def own(request):
        response = HttpResponse("x")
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    assert content_security_policy(own)(None)["Content-Security-Policy"] == "default-src 'none'"


# --- the reference deployment --------------------------------------------------------------------


def raw_get(site: Deployment, path: str, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


def cookies_of(response) -> dict[str, str]:
    """name -> the whole Set-Cookie line."""
    return {
        line.split("=", 1)[0]: line for line in response.headers.get_all("Set-Cookie", failobj=[])
    }


@pytest.mark.e2e
def test_reference_deployment_over_http(make_deployment_here):
    site = make_deployment_here("plain").start()
    response = raw_get(site, "/accounts/login/")
    assert response.status == 200
    assert_strict_policy(response.headers["Content-Security-Policy"])
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in cookies_of(response)["csrftoken"]


@pytest.mark.e2e
def test_reference_deployment_with_an_https_base_url(make_deployment_here):
    """BASE_URL https, behind a proxy on this host (Gunicorn trusts X-Forwarded-Proto from
    127.0.0.1): HSTS on HTTPS requests, and cookies that never travel over plain HTTP."""
    site = make_deployment_here("tls")
    site.env["BASE_URL"] = origin = f"https://127.0.0.1:{site.port}"
    site.start()
    via_proxy = {"X-Forwarded-Proto": "https"}

    response = raw_get(site, "/accounts/login/", via_proxy)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert_strict_policy(response.headers["Content-Security-Policy"])
    csrf_cookie = cookies_of(response)["csrftoken"]
    assert "Secure" in csrf_cookie
    # A plain HTTP request gets no HSTS (browsers ignore it there anyway).
    assert "Strict-Transport-Security" not in raw_get(site, "/accounts/login/").headers

    # Logging in over "HTTPS": the session cookie is Secure too.
    page = raw_get(site, "/accounts/login/", via_proxy)
    token_cookie = cookies_of(page)["csrftoken"].split(";", 1)[0]
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    conn.request("GET", "/accounts/login/", headers={**via_proxy, "Cookie": token_cookie})
    form = conn.getresponse().read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "login": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    conn.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            **via_proxy,
            "Cookie": token_cookie,
            "Referer": f"{origin}/accounts/login/",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    answer = conn.getresponse()
    answer.read()
    conn.close()
    assert answer.status == 302, answer.status
    assert "Secure" in cookies_of(answer)["sessionid"]
    assert "HttpOnly" in cookies_of(answer)["sessionid"]


def deployment_settings(tmp_path, **env) -> dict:
    """Security settings of bugsink_site.settings for an environment (a fresh interpreter)."""
    code = (
        "import json\nfrom bugsink_site import settings as s\n"
        "print(json.dumps({n: getattr(s, n, None) for n in ('SECURE_HSTS_SECONDS',"
        " 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'SESSION_COOKIE_SECURE',"
        " 'CSRF_COOKIE_SECURE', 'SECURE_PROXY_SSL_HEADER')}))"
    )
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BUGSINK_", "DJANGO_"))},
        "PYTHONPATH": os.pathsep.join([str(ROOT / "example_project"), str(ROOT)]),
        "BUGSINK_DATA_DIR": str(tmp_path / "data"),
        "SENTRY_DSN": "",
        **env,
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_hsts_settings_follow_base_url_and_can_be_changed(tmp_path):
    plain = deployment_settings(tmp_path, BASE_URL="http://errors.example.com")
    assert plain["SECURE_HSTS_SECONDS"] == 0 and not plain["SESSION_COOKIE_SECURE"]
    tls = deployment_settings(tmp_path, BASE_URL="https://errors.example.com")
    assert tls["SECURE_HSTS_SECONDS"] == 31536000
    assert tls["SESSION_COOKIE_SECURE"] and tls["CSRF_COOKIE_SECURE"]
    off = deployment_settings(
        tmp_path, BASE_URL="https://errors.example.com", BUGSINK_HSTS_SECONDS="0"
    )
    assert off["SECURE_HSTS_SECONDS"] == 0 and off["SESSION_COOKIE_SECURE"]
    proxy = deployment_settings(
        tmp_path,
        BASE_URL="https://errors.example.com",
        BEHIND_PROXY="1",
        BUGSINK_HSTS_SECONDS="63072000",
        BUGSINK_HSTS_INCLUDE_SUBDOMAINS="1",
        BUGSINK_HSTS_PRELOAD="1",
    )
    assert proxy["SECURE_HSTS_SECONDS"] == 63072000
    assert proxy["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and proxy["SECURE_HSTS_PRELOAD"]
    assert proxy["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


# --- in a browser --------------------------------------------------------------------------------

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  {directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample}));
"""

MAKE_TEAM = """
from django.contrib.auth import get_user_model
from bugsink_issues.models.access import Team, TeamMembership
team = Team.objects.create(name="Ops")
TeamMembership.objects.create(team=team, user=get_user_model().objects.get(), role="admin")
print(team.pk)
"""


@pytest.mark.browser
@pytest.mark.e2e
def test_pages_work_under_the_policy_and_injected_script_is_blocked(
    make_deployment_here, chromium, artifacts_dir
):
    from harness.processes import wait_for
    from tests.security.site import query, send_exception

    site = make_deployment_here("browser").start()
    send_exception(site.demo_dsn(), "seen under the policy")
    ((issue_id,),) = wait_for(
        lambda: query(site, "SELECT id FROM bugsink_issues_issue"), timeout=60, what="the issue"
    )
    ((event_pk,),) = query(site, "SELECT id FROM bugsink_issues_event WHERE issue_id = ?", issue_id)
    team_id = int(site.manage("shell", "-c", MAKE_TEAM).split()[-1])
    project_id = site.demo_project_id()

    context = chromium.new_context()
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console, failed = [], []
    page.on("console", lambda m: console.append((page.url, m.type, m.text)))
    page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
    try:
        page.goto(site.base_url + "/accounts/login/")
        page.fill("input[name=login]", ADMIN_EMAIL)
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("form.bsk-form button[type=submit]")
        page.wait_for_url(site.base_url + "/")

        pages = {
            "projects": "/",
            "issue list": f"/projects/{project_id}/",
            "all issues": "/issues/",
            "issue": f"/issues/{issue_id}/",
            **{
                f"issue, {tab}": f"/issues/{issue_id}/?tab={tab}"
                for tab in ("details", "breadcrumbs", "tags", "events", "history", "grouping")
            },
            "event": f"/issues/{issue_id}/events/{event_pk}/",
            "project settings": f"/projects/{project_id}/settings/",
            "project setup": f"/projects/{project_id}/setup/",
            "teams": "/teams/",
            "team": f"/teams/{team_id}/",
            "preferences": "/preferences/",
        }
        for name, path in pages.items():
            response = page.goto(site.base_url + path)
            assert response.status == 200, (name, response.status)
            assert_strict_policy(response.headers.get("content-security-policy"))
            page.wait_for_load_state("load")
            assert page.evaluate("window.__violations") == [], name
        # The browser's own favicon request is the one resource that fails (the UI has none).
        assert {urllib.parse.urlsplit(url).path for url in failed} <= {"/favicon.ico"}, failed
        errors = [c for c in console if c[1] == "error" and "Failed to load resource" not in c[2]]
        assert errors == [], errors

        # ui.js runs under the policy: the tag bars got their width, "?" opens the help.
        page.goto(site.base_url + f"/issues/{issue_id}/?tab=tags")
        widths = page.eval_on_selector_all("[data-bar]", "bars => bars.map(b => b.style.width)")
        assert widths and all(w.endswith("%") for w in widths), widths
        page.keyboard.press("?")
        assert page.is_visible("[data-help]")
        page.screenshot(path=str(artifacts_dir / "issue-under-csp.png"))

        # What an injection would add is not run: an inline script, an inline handler.
        page.evaluate(
            """() => {
              const s = document.createElement("script");
              s.textContent = "window.__injected = 'script ran'";
              document.body.appendChild(s);
              const b = document.createElement("button");
              b.setAttribute("onclick", "window.__injected = 'handler ran'");
              document.body.appendChild(b);
              b.click();
            }"""
        )
        assert page.evaluate("window.__injected") is None
        blocked = wait_for(
            lambda: {v["directive"] for v in page.evaluate("window.__violations")} or None,
            timeout=10,
            what="the violation reports",
        )
        assert {"script-src-elem", "script-src-attr"} <= blocked, blocked
    finally:
        context.close()
