"""Grouping and titles, without the database: every sample, and the cases users care about."""

import json
from datetime import UTC, datetime

import pytest

from bugsink_issues.digest.grouping import grouping_for, normalize_text
from bugsink_issues.digest.normalize import normalize_event
from bugsink_issues.digest.summary import culprit_for, title_for
from tests.factories import (
    DATA,
    capture_payload,
    load_sample,
    python_exception,
    sample_paths,
    spooled,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
# Version 1 keys of every sample and capture, as version 1 computed them when version 2 came.
V1_KEYS = json.loads((DATA / "grouping_v1_keys.json").read_text())


def normalized(payload):
    return normalize_event(payload, event_id="a" * 32, received_at=NOW).data


def key_of(payload):
    return grouping_for(normalized(payload)).key


@pytest.mark.parametrize("path", sample_paths(), ids=lambda p: p.name)
def test_every_sample_gets_a_title_and_a_stable_key(path):
    raw = path.read_bytes()
    first = normalized(json.loads(raw))
    second = normalized(json.loads(raw))
    assert grouping_for(first).key == grouping_for(second).key
    assert len(grouping_for(first).key) == 64
    title = title_for(first)
    assert title and title not in ("<unlabeled event>",)
    assert len(title) <= 255
    assert grouping_for(first).parts, "the key's parts are there to explain it"


@pytest.mark.parametrize(
    ("name", "title", "culprit"),
    [
        (
            "java-minimal.json",
            "ArithmeticException: / by zero",
            "io.sentry.example.Application in home",
        ),
        (
            "python-http-error.json",
            "HTTPError: 429 Client Error: Too Many Requests for url: https://slack.com/api/chat.postMessage",
            "sentry.tasks.post_process.post_process_group",
        ),
        ("javascript-message.json", "event", ""),
        (
            "unity.json",
            "NullReferenceException: Object reference not set to an instance of an object",
            "SampleScript.cs in SampleScript.ThrowNull ()",
        ),
        ("mobile1-xjo.json", "NullPointerException", None),
        ("block-invoke.json", "NSError", "stripped_application_code"),
        ("swiftui.json", "SIGABRT: AttributeGraph precondition failure: %s.", "__pthread_kill"),
        ("laravel.json", "Exception: LARAVEL TEST", "/"),
    ],
)
def test_titles_as_sentry_users_know_them(name, title, culprit):
    data = normalized(load_sample(name))
    assert title_for(data) == title
    if culprit is not None:
        assert culprit_for(data) == culprit


def test_same_type_from_two_call_sites_is_two_issues():
    a = python_exception("KeyError", "'user'", frames=(("app.views", "index"),))
    b = python_exception("KeyError", "'user'", frames=(("app.views", "detail"),))
    assert key_of(a) != key_of(b)


def test_line_numbers_do_not_split_and_under_v1_source_lines_neither():
    a = python_exception("KeyError", "'user'")
    b = python_exception("KeyError", "'user'")
    b["exception"]["values"][0]["stacktrace"]["frames"][0].update(lineno=999)
    assert key_of(a) == key_of(b)
    b["exception"]["values"][0]["stacktrace"]["frames"][0].update(context_line="x")
    assert grouping_for(normalized(a), 1).key == grouping_for(normalized(b), 1).key


@pytest.mark.parametrize("path", sorted(V1_KEYS), ids=str)
def test_version_1_keys_never_change(path):
    # Stored issues are found by these keys: any change to version 1 would split them all.
    if path.startswith("samples/"):
        payload = load_sample(path.removeprefix("samples/"))
    else:
        payload = capture_payload(path.removeprefix("captures/")[:3])
    assert grouping_for(normalized(payload), 1).key == V1_KEYS[path]


def test_one_call_site_with_different_ids_is_one_issue():
    a = python_exception(
        "Http404", "No Order matches id 1234 (uuid 6f1c2d9e-8f0a-4b7e-9d2a-1b2c3d4e5f60)"
    )
    b = python_exception(
        "Http404", "No Order matches id 98 (uuid 0a1b2c3d-8f0a-4b7e-9d2a-ffffffffffff)"
    )
    assert key_of(a) == key_of(b)
    # Without frames, the value decides, with ids replaced by placeholders.
    for event in (a, b):
        event["exception"]["values"][0]["stacktrace"]["frames"] = []
    assert key_of(a) == key_of(b)
    assert grouping_for(normalized(a)).kind == "exception-value"


def test_normalize_text_placeholders():
    text = (
        "user bob@example.com at 10.0.0.1 fetched https://x.io/a?b=1 on 2026-11-27T10:00:00Z "
        "hash deadbeef1234 id 42 0x7fff"
    )
    assert normalize_text(text) == (
        "user <email> at <ip> fetched <url> on <date> hash <hash> id <int> <hex>"
    )


def test_fingerprint_literal_and_variables():
    base = python_exception("ValueError", "x")
    plain = key_of(base)
    assert key_of({**base, "fingerprint": ["{{ default }}"]}) == plain
    custom = key_of({**base, "fingerprint": ["payments", "{{ type }}"]})
    assert custom != plain
    other_value = python_exception("ValueError", "y", frames=(("other", "f"),))
    assert key_of({**other_value, "fingerprint": ["payments", "{{ type }}"]}) == custom
    with_default = {**base, "fingerprint": ["{{ default }}", "{{ tags.tenant }}"]}
    a = key_of({**with_default, "tags": {"tenant": "acme"}})
    b = key_of({**with_default, "tags": {"tenant": "globex"}})
    assert a != b and plain not in (a, b)
    assert key_of({**base, "fingerprint": ["{{ transaction }}"], "transaction": "/a"}) != key_of(
        {**base, "fingerprint": ["{{ transaction }}"], "transaction": "/b"}
    )
    # Ints in fingerprints (custom-fingerprint-int.json) are text.
    assert key_of({**base, "fingerprint": ["x", 1]}) == key_of({**base, "fingerprint": ["x", "1"]})


def test_fingerprint_parts_are_kept_to_explain_the_grouping():
    result = grouping_for(normalized({**python_exception(), "fingerprint": ["{{ default }}", "x"]}))
    assert result.kind == "fingerprint"
    assert result.parts[1] == "x"
    assert result.parts[0]["default"][0] == "ValueError"


def test_python_exception_group():
    data = normalized(capture_payload("009"))
    result = grouping_for(data)
    assert title_for(data) == "ExceptionGroup: many things"
    assert {"group_of": ["KeyError", "TypeError", "ValueError"]} in result.parts


def test_exception_group_of_one_kind_is_named_by_that_kind():
    def leaf(i):
        return {
            "type": "ValueError",
            "value": f"bad {i}",
            "mechanism": {"type": "chained", "exception_id": i, "parent_id": 0},
        }

    payload = {
        "exception": {
            "values": [
                leaf(1),
                leaf(2),
                {
                    "type": "ExceptionGroup",
                    "value": "many",
                    "mechanism": {"type": "generic", "exception_id": 0, "is_exception_group": True},
                },
            ]
        }
    }
    data = normalized(payload)
    assert title_for(data) == "ValueError: bad 1"
    assert grouping_for(data).parts[0] == "ValueError"


def test_js_aggregate_error():
    data = normalized(capture_payload("029"))
    assert title_for(data) == "AggregateError: many"
    assert {"group_of": ["RangeError", "TypeError"]} in grouping_for(data).parts


def test_chained_exceptions_are_named_by_the_last():
    data = normalized(load_sample("java-chained.json"))
    assert title_for(data).startswith("LifecycleException")


def test_js_capture_message_is_titled_and_grouped_by_its_message():
    payload = capture_payload("026")  # captureMessage('Something bad happened', 'warning')
    data = normalized(payload)
    assert title_for(data) == "Something bad happened"
    assert data["level"] == "warning"
    result = grouping_for(data)
    assert result.kind == "message"
    assert result.parts == ["Something bad happened"]
    # The same message from another call site: same issue (the synthetic stack is the SDK's).
    moved = json.loads(json.dumps(payload))
    moved["exception"]["values"][0]["stacktrace"]["frames"][-1]["function"] = "elsewhere"
    assert key_of(moved) == result.key


def test_python_logging_with_parameters_groups_by_template():
    payload = capture_payload("007")  # log.error("Failed to process order %s for %s", 1234, "bob")
    data = normalized(payload)
    assert title_for(data) == "Failed to process order 1234 for bob"
    other = json.loads(json.dumps(payload))
    other["logentry"].update(formatted="Failed to process order 99 for alice", params=[99, "alice"])
    assert key_of(payload) == key_of(other)
    different = json.loads(json.dumps(payload))
    different["logentry"] = {
        "message": "Order %s shipped",
        "params": [1],
        "formatted": "Order 1 shipped",
    }
    assert key_of(payload) != key_of(different)


def test_python_logging_exception_groups_by_exception():
    data = normalized(capture_payload("008"))  # log.exception("Unexpected failure in %s") in 1 / 0
    assert title_for(data) == "ZeroDivisionError: division by zero"
    assert grouping_for(data).kind == "exception"


def test_message_without_template_is_normalised():
    a = {"message": "Payment 123 failed for card 4242"}
    b = {"message": "Payment 987 failed for card 1111"}
    assert key_of(a) == key_of(b)
    assert title_for(normalized(a)) == "Payment 123 failed for card 4242"


def test_a_newer_grouping_version_never_splits_existing_issues(project, digest):
    from bugsink_issues.models import Event, Grouping, Issue, ProjectSettings

    ProjectSettings.objects.for_project(project.pk)
    ProjectSettings.objects.filter(project=project).update(grouping_version=1)
    digest([spooled(project, python_exception())])
    issue = Issue.objects.get()

    ProjectSettings.objects.filter(project=project).update(grouping_version=2)
    moved = python_exception()  # the same code, moved down by an edit: a new line number
    moved["exception"]["values"][0]["stacktrace"]["frames"][0]["lineno"] = 99
    digest([spooled(project, python_exception()), spooled(project, moved)])
    assert Issue.objects.get() == issue
    assert sorted(Grouping.objects.values_list("version", flat=True)) == [1, 2]
    assert Event.objects.filter(issue=issue).count() == 3
    digest([spooled(project, python_exception("OtherError"))])  # new under v2 only: new issue
    assert Grouping.objects.get(issue__title__startswith="OtherError").version == 2
