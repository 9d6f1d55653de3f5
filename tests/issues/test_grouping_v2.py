"""Grouping version 2: in-app source lines instead of nothing, the SDK's own frames dropped; and
how a project moves to it without splitting its issues."""

import copy
from datetime import UTC, datetime

import pytest

from bugsink_issues.conf import app_settings
from bugsink_issues.digest.frames import MAX_CONTEXT_LINE, is_sdk_frame
from bugsink_issues.digest.grouping import LATEST_VERSION, VERSIONS, grouping_for
from bugsink_issues.digest.normalize import normalize_event
from tests.factories import python_exception, spooled

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def key(payload, version=2):
    data = normalize_event(copy.deepcopy(payload), event_id="a" * 32, received_at=NOW).data
    return grouping_for(data, version).key


def event(*frames, exc_type="ValueError", value="bad value"):
    """An exception event whose frames are (module, function, context_line, lineno[, in_app])."""
    payload = python_exception(exc_type, value, frames=())
    payload["exception"]["values"][0]["stacktrace"]["frames"] = [
        {
            "module": module,
            "function": function,
            "filename": module.replace(".", "/") + ".py",
            "lineno": lineno,
            "in_app": rest[0] if rest else True,
            **({"context_line": line} if line is not None else {}),
        }
        for module, function, line, lineno, *rest in frames
    ]
    return payload


def test_version_2_is_the_latest_and_new_projects_start_on_it():
    assert LATEST_VERSION == 2 and set(VERSIONS) == {1, 2}
    assert app_settings.GROUPING_VERSION == 2


def test_two_raise_sites_in_one_function_are_two_issues():
    first = event(("shop.cart", "checkout", '    raise ValueError("empty cart")', 10))
    second = event(("shop.cart", "checkout", '    raise ValueError("no address")', 14))
    assert key(first) != key(second)
    assert key(first, 1) == key(second, 1)  # what version 2 fixes


def test_code_moved_by_an_edit_above_it_stays_one_issue():
    before = event(("shop.cart", "checkout", '    raise ValueError("empty cart")', 10))
    after = event(("shop.cart", "checkout", '    raise ValueError("empty cart")', 37))
    reindented = event(("shop.cart", "checkout", '\t\traise  ValueError("empty cart")  ', 40))
    assert key(before) == key(after) == key(reindented)


def test_missing_or_very_long_source_lines_fall_back_to_location_and_function():
    bare = event(("shop.cart", "checkout", None, 10))
    empty = event(("shop.cart", "checkout", "   ", 11))
    long_line = event(("shop.cart", "checkout", "x = 1; " * (MAX_CONTEXT_LINE // 7 + 1), 12))
    assert key(bare) == key(empty) == key(long_line)
    assert key(bare) != key(event(("shop.cart", "checkout", "    raise ValueError()", 10)))
    just_short_enough = event(("shop.cart", "checkout", "y" * MAX_CONTEXT_LINE, 12))
    assert key(just_short_enough) != key(bare)


def test_only_in_app_frames_contribute_their_source_lines():
    app = ("shop.cart", "checkout", "    total = price(cart)", 10)
    library_v1 = event(app, ("decimal_lib", "quantize", "    return _q(x)", 200, False))
    library_v2 = event(app, ("decimal_lib", "quantize", "    return _quantize(x)", 210, False))
    assert key(library_v1) == key(library_v2)
    # Without in-app frames all frames count, by location and function only.
    no_app_1 = event(("decimal_lib", "quantize", "    return _q(x)", 200, False))
    no_app_2 = event(("decimal_lib", "quantize", "    return _quantize(x)", 210, False))
    assert key(no_app_1) == key(no_app_2)


def test_the_parts_name_the_source_lines_so_the_ui_can_explain_them():
    data = normalize_event(
        event(("shop.cart", "checkout", '    raise ValueError("empty cart")', 10)),
        event_id="a" * 32,
        received_at=NOW,
    ).data
    result = grouping_for(data)
    assert result.version == 2 and result.kind == "exception"
    assert result.parts == [
        "ValueError",
        ["shop.cart", "checkout", 'raise ValueError("empty cart")'],
    ]
    assert "1 with their source line" in result.description


def test_recursion_still_collapses_to_one_frame():
    frame = ("shop.tree", "walk", "    return walk(node.child)", 5)
    once = event(("shop.app", "main", "    walk(root)", 1), frame)
    thrice = event(("shop.app", "main", "    walk(root)", 1), frame, frame, frame)
    assert key(once) == key(thrice)


def browser_frame(function, filename="http://shop.example/assets/app.4f3a9c1b.js"):
    return {"function": function, "filename": filename, "lineno": 1, "colno": 100, "in_app": True}


def js_event(frames):
    return {
        "platform": "javascript",
        "exception": {
            "values": [
                {"type": "TypeError", "value": "x is null", "stacktrace": {"frames": frames}}
            ]
        },
    }


def test_the_browser_sdk_wrapper_does_not_change_the_key():
    direct = js_event([browser_frame("trigger"), browser_frame("onClick"), browser_frame("fail")])
    wrapped = js_event(
        [
            browser_frame("trigger"),
            browser_frame("EventTarget.sentryWrapped"),  # bundled into the app's own file
            browser_frame("onClick"),
            browser_frame("fail"),
        ]
    )
    assert key(direct, 1) != key(wrapped, 1)
    assert key(direct) == key(wrapped)


def test_sdk_frames_by_path_and_module_do_not_change_the_key():
    app = {"module": "shop.views", "function": "index", "in_app": True}
    sdk_frames = [
        {"module": "sentry_sdk.integrations.django.views", "function": "sentry_wrapped_callback"},
        {"module": "@sentry.core.build.cjs.utils:handleCallbackErrors", "function": "wrapped"},
        {"filename": "webpack:///./node_modules/@sentry/browser/esm/helpers.js", "function": "w"},
        {"abs_path": "/srv/venv/lib/python3.12/site-packages/sentry_sdk/tracing_utils.py"},
    ]
    for sdk_frame in sdk_frames:
        sdk_frame = {**sdk_frame, "in_app": True}
        plain = python_exception(frames=())
        plain["exception"]["values"][0]["stacktrace"]["frames"] = [app]
        with_sdk = copy.deepcopy(plain)
        with_sdk["exception"]["values"][0]["stacktrace"]["frames"] = [sdk_frame, app]
        assert key(plain) == key(with_sdk), sdk_frame
        assert key(plain, 1) != key(with_sdk, 1), sdk_frame


@pytest.mark.parametrize(
    ("frame", "is_sdk"),
    [
        ({"module": "sentry_sdk"}, True),
        ({"module": "sentry_sdk.tracing_utils"}, True),
        ({"module": "raven.base"}, True),
        ({"module": "@sentry.node.build.cjs.integrations:http"}, True),
        ({"module": "@sentry-internal.replay.build:index"}, True),
        ({"module": "io.sentry.SentryWrapper$1", "function": "call"}, True),
        ({"filename": "node_modules/@sentry/core/build/esm/exports.js"}, True),
        ({"abs_path": "C:\\app\\node_modules\\@sentry\\browser\\index.js"}, True),
        ({"filename": "https://browser.sentry-cdn.com/8.0.0/bundle.min.js"}, True),
        ({"filename": "/static/raven-js/dist/raven.js"}, True),
        ({"function": "sentryWrapped", "filename": "https://shop.example/app.js"}, True),
        ({"function": "EventTarget.sentryWrapped"}, True),  # as Chromium names it
        ({"function": "HTMLButtonElement.sentryWrapped [as onclick]"}, True),
        # The application's own code, even when its names mention Sentry:
        ({"module": "sentry_sdk_helpers"}, False),
        ({"module": "shop.sentry_setup"}, False),
        ({"module": "ravenous.birds"}, False),
        ({"module": "com.example.io.sentry.Helper"}, False),
        ({"filename": "src/sentry.js", "function": "initSentry"}, False),
        ({"filename": "/srv/app/my@sentry/x.js"}, False),
        ({"function": "sentryWrappedHandler"}, False),
        ({"function": "mysentryWrapped"}, False),
    ],
)
def test_which_frames_are_the_sdks(frame, is_sdk):
    assert is_sdk_frame(frame) is is_sdk


@pytest.mark.django_db
def test_new_projects_start_on_version_2_and_keep_two_raise_sites_apart(project, digest):
    from bugsink_issues.models import Grouping, Issue, ProjectSettings

    digest(
        [
            spooled(project, event(("shop.cart", "checkout", '    raise ValueError("a")', 10))),
            spooled(project, event(("shop.cart", "checkout", '    raise ValueError("b")', 14))),
            spooled(project, event(("shop.cart", "checkout", '    raise ValueError("a")', 30))),
        ]
    )
    assert ProjectSettings.objects.get(project=project).grouping_version == 2
    assert sorted(Issue.objects.values_list("event_count", flat=True)) == [1, 2]
    assert set(Grouping.objects.values_list("version", flat=True)) == {2}


@pytest.mark.django_db
def test_a_v1_issue_keeps_its_events_on_v1_and_after_the_move_to_v2(project, digest):
    from bugsink_issues.models import Grouping, Issue, ProjectSettings

    ProjectSettings.objects.for_project(project.pk)
    ProjectSettings.objects.filter(project=project).update(grouping_version=1)  # made before v2
    site_a = event(("shop.cart", "checkout", '    raise ValueError("a")', 10))
    site_b = event(("shop.cart", "checkout", '    raise ValueError("b")', 14))
    digest([spooled(project, site_a)])
    (issue,) = Issue.objects.all()

    # The upgrade alone changes nothing: the project stays on version 1 and so do its keys.
    digest([spooled(project, site_a), spooled(project, site_b)])
    assert list(Issue.objects.all()) == [issue]
    assert set(Grouping.objects.values_list("version", flat=True)) == {1}

    # Moved to version 2 (its settings page): known events still join the version 1 issue, even
    # the second raise site, which version 1 had already put into it; a new error is a new issue.
    ProjectSettings.objects.filter(project=project).update(grouping_version=2)
    moved_a = event(("shop.cart", "checkout", '    raise ValueError("a")', 25))
    digest([spooled(project, moved_a), spooled(project, site_b)])
    digest([spooled(project, event(("shop.orders", "refund", "    raise ValueError()", 3)))])
    issue.refresh_from_db()
    assert issue.event_count == 5
    assert Issue.objects.count() == 2
    assert sorted(Grouping.objects.filter(issue=issue).values_list("version", flat=True)) == [
        1,
        2,
        2,
    ]
