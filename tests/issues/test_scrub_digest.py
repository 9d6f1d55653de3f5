"""Scrubbing in the digest: what is stored, derived and shown has no secret left; the project's
settings decide; the settings page sets them."""

import json
import re

import pytest
from django.urls import reverse

from bugsink_issues.digest.storage import load_payload
from bugsink_issues.models import Event, Grouping, Issue, IssueTagValue, ProjectSettings
from bugsink_issues.scrubbing import FILTERED, ScrubbingConfig
from tests.factories import make_project, make_team, make_user, python_exception, spooled

pytestmark = pytest.mark.django_db

VISA = "4111111111111111"
SECRETS = ("hunter2", "s3ss10n", "tok-abcdefghij", VISA, "203.0.113.9", "k-987")


def leaky_event():
    payload = python_exception("PaymentError", f"card {VISA} declined")
    payload["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"] = {"password": "'hunter2'"}
    payload |= {
        "request": {
            "url": "https://shop.example/pay?api_key=k-987",
            "headers": {"Authorization": "Bearer tok-abcdefghij", "Cookie": "sid=s3ss10n"},
        },
        "user": {"ip_address": "203.0.113.9"},
        "extra": {"card": VISA},
        "tags": {"session": "s3ss10n"},
    }
    return payload


def stored_text(event):
    return json.dumps(load_payload(event))


def test_nothing_stored_or_derived_keeps_a_secret(project, digest):
    ProjectSettings.objects.for_project(project.pk)
    ProjectSettings.objects.filter(project=project).update(scrub_ip_addresses=True)
    frameless = leaky_event()  # grouped by its value, the value is in the key's parts
    frameless["exception"]["values"][0]["stacktrace"]["frames"] = []
    frameless["request"]["headers"] = "Authorization: Bearer tok-abcdefghij"  # kept as a repr
    digest([spooled(project, leaky_event()), spooled(project, frameless)])
    derived = [
        json.dumps(list(Grouping.objects.values_list("parts", flat=True))),
        json.dumps(list(IssueTagValue.objects.values_list("tag_value__value", flat=True))),
    ]
    for event in Event.objects.all():
        derived += [stored_text(event), json.dumps(event.problems), event.title, event.user_label]
    for issue in Issue.objects.all():
        derived += [issue.title, issue.culprit]
    assert Issue.objects.count() == 2 and Event.objects.exclude(problems=[]).count() == 1
    for secret in SECRETS:
        assert not any(secret in text for text in derived), secret
    event = Event.objects.get(event_id=Event.objects.order_by("pk")[0].event_id)
    assert event.title == f"PaymentError: card {FILTERED} declined"
    assert load_payload(event)["_scrubbed"]["count"] == 8
    assert ("url", "https://shop.example/pay") in IssueTagValue.objects.values_list(
        "key", "tag_value__value"
    )


def test_the_sdks_own_filtering_and_safe_events_are_stored_as_sent(project, digest):
    payload = python_exception(extra={"password": FILTERED, "note": "no secrets here"})
    digest([spooled(project, payload)])
    stored = load_payload(Event.objects.get())
    assert stored["extra"] == {"password": FILTERED, "note": "no secrets here"}
    assert "_scrubbed" not in stored


def test_a_project_can_turn_scrubbing_off(project, digest):
    ProjectSettings.objects.for_project(project.pk)
    ProjectSettings.objects.filter(project=project).update(scrub_data=False)
    digest([spooled(project, leaky_event())])
    assert VISA in stored_text(Event.objects.get())


def test_extra_and_safe_fields_come_from_the_projects_settings(project, digest):
    ProjectSettings.objects.for_project(project.pk)
    ProjectSettings.objects.filter(project=project).update(
        scrub_extra_fields="iban\nmemberNumber", scrub_safe_fields="author, token_count"
    )
    payload = python_exception(
        extra={"iban": "NL91 ABNA 0417 1643 00", "membernumber": "77", "author": "jane"},
        tags={"token_count": "12"},
    )
    digest([spooled(project, payload)])
    stored = load_payload(Event.objects.get())
    assert stored["extra"] == {"iban": FILTERED, "membernumber": FILTERED, "author": "jane"}
    assert stored["tags"] == {"token_count": "12"}


def test_digest_options_with_and_without_rows(project):
    other = make_project("Other")
    ProjectSettings.objects.create(
        project=other, scrub_data=True, scrub_ip_addresses=True, scrub_safe_fields="Author"
    )
    options = ProjectSettings.objects.digest_options([project.pk, other.pk])
    assert options[project.pk].scrubbing == ScrubbingConfig()  # no row: on, the defaults
    assert options[other.pk].scrubbing == ScrubbingConfig(
        scrub_ip_addresses=True, safe_fields=("author",)
    )
    ProjectSettings.objects.filter(project=other).update(scrub_data=False)
    assert not ProjectSettings.objects.digest_options([other.pk])[other.pk].scrubbing.enabled


def test_the_settings_page_sets_the_scrubbing_fields(client):
    admin = make_user("alice")
    project = make_project("Shop", team=make_team("T", admins=[admin]))
    client.force_login(admin)
    url = reverse("bugsink_issues:project_settings", args=[project.pk])
    page = client.get(url).content.decode()
    assert "Data scrubbing" in page
    assert re.search(r'<input type="checkbox" name="settings-scrub_data"[^>]* checked>', page)
    client.post(
        url,
        {
            "project-name": "Shop",
            "settings-grouping_version": "2",
            "settings-alerts_enabled": "on",
            "settings-scrub_data": "on",
            "settings-scrub_ip_addresses": "on",
            "settings-scrub_extra_fields": "iban",
            "settings-scrub_safe_fields": "author",
        },
    )
    row = ProjectSettings.objects.get(project=project)
    assert (row.scrub_data, row.scrub_ip_addresses) == (True, True)
    assert (row.scrub_extra_fields, row.scrub_safe_fields) == ("iban", "author")
    client.post(url, {"project-name": "Shop", "settings-grouping_version": "2"})
    row.refresh_from_db()
    assert row.scrub_data is False  # an unticked box turns it off
