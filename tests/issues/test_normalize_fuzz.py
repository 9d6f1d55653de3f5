"""Property test: no payload shape makes normalising, grouping, titling or tagging raise."""

import json
import os
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bugsink_issues.digest.normalize import Caps, Normalized, _cap, exceeds_caps, needs_full_walk
from bugsink_issues.digest.prepare import _prepare
from tests.factories import SpooledEvent

# Derandomized in the suite (the same examples every run: no flaky CI); explore with
# BUGSINK_FUZZ_EXAMPLES=5000 BUGSINK_FUZZ_RANDOM=1.
EXAMPLES = int(os.environ.get("BUGSINK_FUZZ_EXAMPLES", "300"))
DERANDOMIZE = not os.environ.get("BUGSINK_FUZZ_RANDOM")

NAMES = [
    "exception", "values", "stacktrace", "frames", "type", "value", "mechanism", "exception_id",
    "parent_id", "is_exception_group", "synthetic", "handled", "message", "logentry", "params",
    "formatted", "tags", "level", "timestamp", "fingerprint", "user", "id", "request", "headers",
    "url", "contexts", "os", "browser", "runtime", "device", "name", "version", "breadcrumbs",
    "in_app", "function", "module", "filename", "abs_path", "lineno", "release", "environment",
    "server_name", "transaction", "sdk", "platform", "threads", "logger", "culprit",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["{{ default }}", "{{ type }}", "{{ tags.x }}", "%s %s", "error", "40"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=40,
)
payloads = st.dictionaries(st.sampled_from(NAMES), json_values, max_size=10)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(payloads)
def test_any_payload_shape_is_prepared(payload):
    raw = json.dumps(payload).encode()
    spooled = SpooledEvent("s", 1, "a" * 32, datetime.now(UTC), raw)
    prepared = _prepare(spooled, 1)  # without prepare_event's safety net: find our bugs
    assert prepared.title and len(prepared.title) <= 255
    assert len(prepared.grouping.key) == 64
    json.dumps(prepared.grouping.parts)
    for key, value in prepared.tags:
        assert isinstance(key, str) and isinstance(value, str)


frames = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            name: json_values | st.text(max_size=10)
            for name in ("function", "module", "filename", "abs_path", "in_app", "lineno")
        },
    )
    | json_values,
    max_size=5,
)
mechanisms = st.fixed_dictionaries(
    {},
    optional={
        "type": json_values,
        "synthetic": st.booleans() | json_values,
        "handled": st.booleans() | json_values,
        "exception_id": st.integers(0, 4) | json_values,
        "parent_id": st.integers(0, 4) | json_values,
        "is_exception_group": st.booleans() | json_values,
    },
)
exceptions = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.text(max_size=10) | json_values,
            "value": st.text(max_size=40) | json_values,
            "mechanism": mechanisms | json_values,
            "stacktrace": st.fixed_dictionaries({"frames": frames}) | json_values,
        },
    ),
    max_size=4,
)
shaped = st.fixed_dictionaries(
    {"exception": st.fixed_dictionaries({"values": exceptions}) | exceptions},
    optional={name: json_values for name in ("fingerprint", "tags", "logentry", "message",
                                             "contexts", "request", "user", "level")},
)  # fmt: skip


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(shaped)
def test_any_exception_shape_is_prepared(payload):
    test_any_payload_shape_is_prepared.hypothesis.inner_test(payload)


SMALL_CAPS = Caps(string_length=12, depth=3, list_items=3)
capped_values = st.recursive(
    scalars | st.sampled_from([2**53 - 1, 2**53, -(2**53), 2**64]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=5) | st.just("k" * 257), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE)
@given(capped_values)
def test_exceeds_caps_is_true_exactly_when_the_walk_would_change_something(value):
    # Text cleaning aside (needs_full_walk decides that from the bytes): without NUL and lone
    # surrogates, skipping the walk must store what the walk would have.
    text = json.dumps(value)
    if "\\u0000" in text or "\\ud" in text:
        return
    result = Normalized(data={}, timestamp=datetime.now(UTC))
    walked = _cap(value, "", result, 0, SMALL_CAPS)
    assert exceeds_caps(value, SMALL_CAPS) == (walked != value or bool(result.problems))


def test_a_large_payload_within_its_caps_skips_the_walk_and_one_beyond_them_does_not():
    frames = [{"function": f"f{i}", "vars": {"x": "y" * 100}} for i in range(300)]
    within = {"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}}
    payload = json.dumps(within).encode()
    assert len(payload) > 16_384 and not needs_full_walk(payload, within)
    long_list = {**within, "extra": {"items": list(range(501))}}  # MAX_LIST_ITEMS is 500
    assert needs_full_walk(json.dumps(long_list).encode(), long_list)
    for text in ("nul \x00", "lone \ud800", "lone \udfff", "hangul \ud55c"):
        escaped = {**within, "extra": text}
        assert needs_full_walk(json.dumps(escaped).encode(), escaped)  # \u0000, \ud800, ...
        upper = json.dumps(escaped).encode().replace(b"\\ud", b"\\uD")
        assert needs_full_walk(upper, escaped)
    assert not needs_full_walk(json.dumps({**within, "extra": "\u00e9 \\u0001"}).encode(), within)
    assert not needs_full_walk(b'{"a": "small"}', {"a": "small"})
