"""The UI inside a host site: the host's login and logout (the UI's own only when the host has
none), user fields labelled by the host's USERNAME_FIELD, and a README that names everything a
host sets."""

import os
import re
import subprocess
import sys

import pytest
from django.contrib.auth import views as auth_views
from django.test import override_settings
from django.urls import include, path, reverse

from bugsink_issues.ui.login import login_url, logout_url, uses_own_login
from harness.processes import ROOT
from tests.factories import make_user

# A host URLconf with an allauth-style logout name (for the tests below that use it).
urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="account_login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="account_logout"),
    path("errors/", include("bugsink_issues.urls")),
]
ALLAUTH_STYLE = override_settings(ROOT_URLCONF=__name__, LOGIN_URL="account_login")


def test_the_ui_embedded_in_a_host_site_whose_users_log_in_by_email(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.host_site.settings",
        "HOST_SITE_DIR": str(tmp_path),
    }
    env.pop("BUGSINK_TEST_POSTGRES", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/host_site/embedded_checks.py",
            "--ds=tests.host_site.settings",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


@pytest.mark.django_db
def test_without_a_login_of_its_own_the_host_gets_the_uis(client, settings):
    # tests.urls has no /accounts/login/ and LOGIN_URL is Django's default: the host has none.
    assert settings.LOGIN_URL == "/accounts/login/"
    assert uses_own_login() and login_url() == reverse("bugsink_issues:login")
    response = client.get(reverse("bugsink_issues:projects"))
    assert response["Location"] == f"{reverse('bugsink_issues:login')}?next=/"
    assert client.get(reverse("bugsink_issues:login")).status_code == 200
    client.force_login(make_user("alice"))
    body = client.get(reverse("bugsink_issues:projects")).content.decode()
    assert f'action="{reverse("bugsink_issues:logout")}"' in body
    assert client.post(reverse("bugsink_issues:logout"))["Location"] == reverse(
        "bugsink_issues:login"
    )


@pytest.mark.django_db
def test_a_host_login_elsewhere_is_used_and_the_uis_own_pages_step_aside(client, settings):
    settings.LOGIN_URL = "https://sso.example.com/start"  # not even in this site
    assert not uses_own_login()
    response = client.get(reverse("bugsink_issues:all_issues"))
    assert response["Location"].startswith("https://sso.example.com/start?next=")
    own = client.get(reverse("bugsink_issues:login"))
    assert own.status_code == 302 and own["Location"].startswith("https://sso.example.com/start")
    assert client.post(reverse("bugsink_issues:logout")).status_code == 404
    client.force_login(make_user("alice"))
    body = client.get(reverse("bugsink_issues:projects")).content.decode()
    assert "Log out" not in body  # no logout URL known: the host's layout has its own
    settings.BUGSINK_ISSUES_UI_LOGOUT_URL = "/sso/logout/"
    assert (
        'action="/sso/logout/"' in client.get(reverse("bugsink_issues:projects")).content.decode()
    )


@pytest.mark.django_db
@ALLAUTH_STYLE
def test_a_host_logout_is_found_by_its_usual_names(client):
    assert not uses_own_login() and logout_url() == "/accounts/logout/"
    response = client.get(reverse("bugsink_issues:projects"))
    assert response["Location"] == "/accounts/login/?next=/errors/"
    client.force_login(make_user("alice"))
    body = client.get(reverse("bugsink_issues:projects")).content.decode()
    assert 'action="/accounts/logout/"' in body and "/errors/logout/" not in body


def _section(text, heading):
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None]


def test_the_root_readme_names_everything_a_host_sets():
    readme = (ROOT / "README.md").read_text()
    section = _section(readme, "## Using the apps in your own Django site")
    host_settings = (ROOT / "tests" / "host_site" / "settings.py").read_text()
    for name in re.findall(r"^(BUGSINK_\w+|LOGIN_URL|AUTH_USER_MODEL) =", host_settings, re.M):
        assert name in section, name
    for needed in (
        "BUGSINK_ISSUES_UI_LOGOUT_URL",
        "TASKS",
        '"django_tasks"',
        "{% block title %}",
        "{% block extra_head %}",
        "{% block content %}",
        'path("health/", include("bugsink_ingest.health_urls"))',
        "health/live",
        "health/ready",
        "python manage.py runsnappea",
        'python manage.py db_worker --queue-name "*"',
        "pip install ./packages/django-snappea ./packages/django-bugsink-ingest "
        "./packages/django-bugsink-issues",
        "USERNAME_FIELD",
        "django.template.context_processors.request",
        "django.contrib.messages.context_processors.messages",
    ):
        assert needed in section, needed


MOUNT = [
    'path("errors/", include("bugsink_issues.urls")),',
    'path("errors/", include("bugsink_ingest.urls")),',
]


def test_the_three_readmes_show_the_same_mount():
    host_urls = (ROOT / "tests" / "host_site" / "urls.py").read_text()
    for line in MOUNT:
        assert line in host_urls  # the embedding tests run exactly this mount
    readmes = {
        ROOT / "README.md": MOUNT,
        ROOT / "packages" / "django-bugsink-issues" / "README.md": MOUNT,
        ROOT / "packages" / "django-bugsink-ingest" / "README.md": MOUNT[1:],  # and names the UI's
    }
    for readme, lines in readmes.items():
        text = readme.read_text()
        for line in lines:
            assert line in text, (readme.name, line)
        mounts = re.findall(
            r'path\("([^"]*)", include\("bugsink_(?:ingest|issues)\.urls"\)\)', text
        )
        assert len(mounts) >= 2 and set(mounts) == {"errors/"}, (readme, mounts)
