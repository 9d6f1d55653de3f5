"""Server-side scrubbing of one event, part by part, without the database."""

import copy
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bugsink_issues.digest.normalize import normalize_event
from bugsink_issues.scrubbing import FILTERED, ScrubbingConfig, scrub_event
from bugsink_issues.scrubbing.event import _Walk
from bugsink_issues.scrubbing.rules import card_number_spans, looks_like_card, parse_field_list
from tests.factories import python_exception, sample_paths

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ON = ScrubbingConfig()
WITH_IPS = ScrubbingConfig(scrub_ip_addresses=True)
VISA = "4111111111111111"  # the test numbers of the card networks: Luhn-valid
AMEX = "378282246310005"
MASTERCARD = "5555 5555 5555 4444"


def scrubbed(payload, config=ON):
    data = normalize_event(copy.deepcopy(payload), event_id="a" * 32, received_at=NOW).data
    scrub_event(data, config)
    return data


def text_of(data):
    return json.dumps(data)


def headers(data):
    return dict(data["request"]["headers"])


# --- request -----------------------------------------------------------------------------------


def test_request_headers_authorization_cookie_and_api_keys():
    data = scrubbed(
        {
            "request": {
                "headers": {
                    "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature",
                    "Proxy-Authorization": "Basic dXNlcjpwYXNz",
                    "Cookie": "sessionid=s3cr3t; theme=dark",
                    "X-Api-Key": "k-123456",
                    "X-CSRFToken": "csrf-abcdef",
                    "User-Agent": "Mozilla/5.0",
                    "Accept": "text/html",
                }
            }
        }
    )
    got = headers(data)
    assert got["Authorization"] == got["Proxy-Authorization"] == FILTERED
    assert got["X-Api-Key"] == got["X-CSRFToken"] == FILTERED
    # Every cookie of the header, whatever its name; the names stay.
    assert got["Cookie"] == f"sessionid={FILTERED}; theme={FILTERED}"
    assert got["User-Agent"] == "Mozilla/5.0" and got["Accept"] == "text/html"
    for secret in ("eyJhbGci", "dXNlcjpw", "s3cr3t", "k-123456", "csrf-abcdef"):
        assert secret not in text_of(data)


@pytest.mark.parametrize(
    "cookies",
    [
        {"sessionid": "s3cr3t", "theme": "dark"},
        [["sessionid", "s3cr3t"], ["theme", "dark"]],
        "sessionid=s3cr3t; theme=dark",
    ],
    ids=["dict", "pairs", "string"],
)
def test_request_cookies_in_every_form(cookies):
    data = scrubbed({"request": {"cookies": cookies}})
    assert "s3cr3t" not in text_of(data) and "dark" not in text_of(data)
    assert "sessionid" in text_of(data) and "theme" in text_of(data)


def test_request_form_data_and_json_bodies():
    data = scrubbed(
        {
            "request": {
                "method": "POST",
                "data": {"username": "bob", "password": "hunter2", "nested": {"api_key": "k9"}},
            }
        }
    )
    assert data["request"]["data"] == {
        "username": "bob",
        "password": FILTERED,
        "nested": {"api_key": FILTERED},
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("username=bob&password=hunter2&next=/", f"username=bob&password={FILTERED}&next=/"),
        ('{"user": "bob", "password": "hunter2"}', f'{{"user": "bob", "password": "{FILTERED}"}}'),
        ("{'user': 'bob', 'secret': 'hunter2'}", f"{{'user': 'bob', 'secret': '{FILTERED}'}}"),
        ("password =\n hunter2", f"password =\n {FILTERED}"),
    ],
    ids=["form", "json", "repr", "newline"],
)
def test_request_bodies_sent_as_one_string(body, expected):
    data = scrubbed({"request": {"method": "POST", "data": body}})
    assert data["request"]["data"] == expected


def test_query_strings_as_string_list_and_dict_and_in_the_url():
    as_string = scrubbed({"request": {"query_string": "page=2&access_token=abc123&q=x"}})
    assert as_string["request"]["query_string"] == f"page=2&access_token={FILTERED}&q=x"
    as_list = scrubbed({"request": {"query_string": [["page", "2"], ["api_key", "abc123"]]}})
    assert as_list["request"]["query_string"] == [["page", "2"], ["api_key", FILTERED]]
    as_dict = scrubbed({"request": {"query_string": {"page": "2", "token": "abc123"}}})
    assert as_dict["request"]["query_string"] == {"page": "2", "token": FILTERED}
    url = scrubbed({"request": {"url": "https://shop.example/cb?code=1&token=abc123#top"}})
    assert url["request"]["url"] == f"https://shop.example/cb?code=1&token={FILTERED}#top"


def test_request_env():
    env = {"SECRET_KEY": "django-insecure-x", "HTTP_AUTHORIZATION": "t", "REMOTE_ADDR": "10.1.2.3"}
    data = scrubbed({"request": {"env": dict(env)}})
    assert data["request"]["env"] == {
        "SECRET_KEY": FILTERED,
        "HTTP_AUTHORIZATION": FILTERED,
        "REMOTE_ADDR": "10.1.2.3",  # addresses only when asked to
    }
    with_ips = scrubbed({"request": {"env": dict(env)}}, WITH_IPS)
    assert with_ips["request"]["env"]["REMOTE_ADDR"] == FILTERED


def test_ip_addresses_only_when_the_project_asks():
    payload = {
        "user": {"id": "42", "ip_address": "203.0.113.9"},
        "request": {"headers": {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}},
    }
    kept = scrubbed(payload)
    assert kept["user"]["ip_address"] == "203.0.113.9"
    assert headers(kept)["X-Forwarded-For"] == "203.0.113.9"
    dropped = scrubbed(payload, WITH_IPS)
    assert dropped["user"] == {"id": "42"}
    assert "203.0.113.9" not in text_of(dropped)


# --- the other parts ---------------------------------------------------------------------------


def test_extra_objects_are_walked_lists_and_scalars_are_replaced():
    data = scrubbed(
        {
            "extra": {
                "credentials": {"username": "jane", "password": "p4ssw0rd!", "last": "yesterday"},
                "tokens": ["a1", "b2"],
                "auth_retries": 3,
                "authenticated": True,
                "session_id": None,
                "order": 1234,
            }
        }
    )
    assert data["extra"] == {
        "credentials": {"username": "jane", "password": FILTERED, "last": "yesterday"},
        "tokens": FILTERED,
        "auth_retries": FILTERED,
        "authenticated": True,  # a boolean or nothing carries no secret
        "session_id": None,
        "order": 1234,
    }


def test_contexts_and_tags():
    data = scrubbed(
        {
            "contexts": {
                "response": {"headers": [["Set-Cookie", "sid=abc; HttpOnly"], ["Age", "3"]]},
                "app": {"app_secret": "xyz", "app_name": "shop"},
            },
            "tags": {"auth_token": "t-1", "customer": "acme"},
        }
    )
    assert data["contexts"]["response"]["headers"] == [["Set-Cookie", FILTERED], ["Age", "3"]]
    assert data["contexts"]["app"] == {"app_secret": FILTERED, "app_name": "shop"}
    assert data["tags"] == {"auth_token": FILTERED, "customer": "acme"}


def test_breadcrumb_data_and_messages():
    data = scrubbed(
        {
            "breadcrumbs": [
                {"category": "auth", "message": "user logged in"},
                {
                    "category": "http",
                    "data": {"url": "/api/cart?token=abc123", "method": "GET"},
                    "message": "sent Authorization: Bearer abcdef123456789",
                },
                {"category": "payment", "message": f"charging card {VISA}"},
            ]
        }
    )
    crumbs = data["breadcrumbs"]["values"]
    assert crumbs[0] == {"category": "auth", "message": "user logged in"}
    assert crumbs[1]["data"]["url"] == f"/api/cart?token={FILTERED}"
    assert crumbs[1]["message"] == f"sent Authorization: Bearer {FILTERED}"
    assert crumbs[2]["message"] == f"charging card {FILTERED}"


def frame_with(**variables):
    payload = python_exception()
    payload["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"] = variables
    return payload


def test_frame_variables_of_exceptions_threads_and_the_event():
    variables = {"password": "'hunter2'", "user": "'bob'", "form": {"secret": "'s'", "n": 1}}
    data = scrubbed(frame_with(**variables))
    frame = data["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert frame["vars"] == {
        "password": FILTERED,
        "user": "'bob'",
        "form": {"secret": FILTERED, "n": 1},
    }
    assert frame["context_line"] == "    do_something()"  # source context is not looked at
    threads = scrubbed({"threads": {"values": [{"stacktrace": {"frames": [{"vars": variables}]}}]}})
    assert (
        threads["threads"]["values"][0]["stacktrace"]["frames"][0]["vars"]["password"] == FILTERED
    )
    bare = scrubbed({"message": "x", "stacktrace": {"frames": [{"vars": dict(variables)}]}})
    assert bare["stacktrace"]["frames"][0]["vars"]["password"] == FILTERED


def test_exception_values_and_log_messages_lose_card_numbers_and_tokens_only():
    payload = python_exception(
        "PaymentError", f"card {VISA} declined (status: insufficient funds, token=t1)"
    )
    payload["logentry"] = {
        "message": "charge %s failed",
        "params": [f"{AMEX}", {"password": "x"}],
        "formatted": f"charge {AMEX} failed via https://api:sk_live_9@pay.example/v1",
    }
    data = scrubbed(payload)
    # Free text stays readable: only the card number goes (a message's "key=value" is no key).
    assert data["exception"]["values"][0]["value"] == (
        f"card {FILTERED} declined (status: insufficient funds, token=t1)"
    )
    assert data["logentry"]["formatted"] == (
        f"charge {FILTERED} failed via https://api:{FILTERED}@pay.example/v1"
    )
    assert data["logentry"]["params"] == [FILTERED, {"password": FILTERED}]
    assert data["logentry"]["message"] == "charge %s failed"


def test_card_numbers_in_every_structured_part_and_as_numbers():
    data = scrubbed(
        {
            "extra": {"card": VISA, "spaced": MASTERCARD, "dashed": "3782-822463-10005"},
            "user": {"id": "1", "note": f"pays with {VISA}"},
            "contexts": {"order": {"paid_with": int(VISA), "order_number": 4111111111111112}},
        }
    )
    assert data["extra"] == {"card": FILTERED, "spaced": FILTERED, "dashed": FILTERED}
    assert data["user"]["note"] == f"pays with {FILTERED}"
    # A Luhn-invalid number of the same shape is an id, not a card.
    assert data["contexts"]["order"] == {"paid_with": FILTERED, "order_number": 4111111111111112}


@pytest.mark.parametrize(
    ("text", "cards"),
    [
        (VISA, [VISA]),
        (AMEX, [AMEX]),
        (MASTERCARD, [MASTERCARD]),
        ("2025-01-31 4111 1111 1111 1111 EUR 12", ["4111 1111 1111 1111"]),
        ("cards 4111111111111111, 5555555555554444.", ["4111111111111111", "5555555555554444"]),
        ("4111111111111112", []),  # fails the Luhn check
        ("1732700000000000", []),  # a timestamp in microseconds: no issuer starts with 1
        ("order 0.4111111111111111", []),  # the decimals of a number
        ("+1 555-123-4567", []),
        ("12345678-1234-1234-1234-123456789012", []),
    ],
)
def test_which_digit_runs_are_card_numbers(text, cards):
    assert [text[a:b] for a, b in card_number_spans(text)] == cards


def test_card_issuers():
    assert looks_like_card(VISA) and looks_like_card(AMEX) and looks_like_card("6011111111111117")
    assert not looks_like_card("9111111111111119")  # no issuer
    assert not looks_like_card("41111111111111")  # Visa has 13, 16 or 19 digits


def test_a_long_run_of_digits_costs_linear_time():
    assert card_number_spans("1 " * 50_000) == []


# --- settings ----------------------------------------------------------------------------------


def test_scrubbing_off_leaves_the_event_as_sent():
    payload = {"request": {"headers": {"Authorization": "Bearer x" * 3}}, "extra": {"card": VISA}}
    data = scrubbed(payload, ScrubbingConfig(enabled=False))
    assert VISA in text_of(data) and "_scrubbed" not in data


def test_safe_fields_are_left_with_everything_under_them():
    config = ScrubbingConfig(safe_fields=parse_field_list("author\nTOKEN_COUNT, sessionid"))
    data = scrubbed(
        {
            "extra": {"author": "jane", "token_count": 12, "auth": {"token": "t"}},
            "request": {"cookies": {"sessionid": "keep-me", "other": "x"}},
        },
        config,
    )
    assert data["extra"] == {"author": "jane", "token_count": 12, "auth": {"token": FILTERED}}
    assert data["request"]["cookies"] == {"sessionid": "keep-me", "other": FILTERED}


def test_extra_fields_scrub_keys_and_every_value_that_holds_them():
    config = ScrubbingConfig(extra_fields=parse_field_list("mysekret"))
    data = scrubbed(
        {
            "extra": {"mysekret_id": "1", "note": "the mysekret is out", "other": "fine"},
            "message": "leak: mysekret",
        },
        config,
    )
    assert data["extra"] == {"mysekret_id": FILTERED, "note": FILTERED, "other": "fine"}
    assert data["logentry"]["formatted"] == FILTERED


def test_the_event_says_how_much_was_scrubbed():
    data = scrubbed(
        {"request": {"headers": {"Authorization": "x-y"}}, "extra": {"password": "p", "card": VISA}}
    )
    assert data["_scrubbed"] == {"count": 3, "fields": ["Authorization", "card number", "password"]}
    # What the SDK filtered itself is not counted again; a clean event says nothing.
    assert "_scrubbed" not in scrubbed({"extra": {"password": FILTERED, "x": "y"}})


def test_unparseable_text_and_problem_reprs_are_scrubbed_too():
    data = {"_unparseable": 'not json {"password": "hunter2", "card": "4111111111111111"'}
    scrub_event(data, ON)
    assert "hunter2" not in data["_unparseable"] and VISA not in data["_unparseable"]
    # A part normalisation dropped is kept as a short repr among the problems.
    broken = scrubbed({"request": {"headers": f"Authorization: Bearer abcdefghijk, card {VISA}"}})
    (problem,) = broken["_problems"]
    assert "abcdefghijk" not in problem["raw"] and VISA not in problem["raw"]


def test_unknown_top_level_parts_are_scrubbed_like_extra():
    data = scrubbed({"message": "x", "my_secret": "s3", "custom": {"api_key": "k", "ok": 1}})
    assert data["my_secret"] == FILTERED and data["custom"] == {"api_key": FILTERED, "ok": 1}


# --- the gate: looking at every string would give nothing more ---------------------------------


def full_look(data, config=ON):
    """Scrub without the gate: every piece walked, every string looked at."""

    def everything(self, pieces):
        self.everything = True
        return pieces

    original = _Walk.gate
    _Walk.gate = everything
    try:
        return scrub_event(data, config)
    finally:
        _Walk.gate = original


TRICKY = [
    {"extra": {"a": 'say \\"password\\": \\"x\\"', "b": "token\t=\tabc", "c": "auth:\nx1234567"}},
    {"extra": {"pair": ["X-Auth-Token", "abc"], "list": [["name", "session=1"]]}},
    {"contexts": {"k": {"pass\\word": "v", 'pass"word': "v", "pass\u0001word": "v"}}},
    {"request": {"data": "bearer\nabcdefghijkl and https://u:p%40ss@h/x"}},
    {"extra": {"n": 5555555555554444, "f": 0.4111111111111111, "s": "5555-5555-5555-4444"}},
    {"breadcrumbs": [{"message": "csrf=abc", "data": {"x": ["card[number]", "1"]}}]},
    {
        "user": {"ip_address": "203.0.113.9", "id": "7"},
        "request": {"headers": [["X-Forwarded-For", "203.0.113.9"]], "env": {"REMOTE_ADDR": "::1"}},
        "extra": {"note": "plain"},
    },
    {"extra": {"big": 2**70, "api_key": "k"}},
]


def test_what_json_cannot_hold_gets_a_full_look():
    # Small payloads are normalised without the capping walk: integers beyond 64 bits stay.
    data = {"extra": {"big": 2**70, "api_key": "k", "note": f"card {VISA}"}, "message": "x"}
    scrub_event(data, ON)
    assert data["extra"] == {"big": 2**70, "api_key": FILTERED, "note": f"card {FILTERED}"}


@pytest.mark.parametrize("config", [ON, WITH_IPS], ids=["on", "with-ips"])
@pytest.mark.parametrize("payload", TRICKY, ids=range(len(TRICKY)))
def test_the_gate_misses_nothing_on_tricky_payloads(payload, config):
    gated, ungated = (
        scrubbed(payload, config),
        normalize_event(copy.deepcopy(payload), event_id="a" * 32, received_at=NOW).data,
    )
    full_look(ungated, config)
    assert gated == ungated


@pytest.mark.parametrize("path", sample_paths(), ids=lambda p: p.name)
def test_the_gate_misses_nothing_on_the_samples(path):
    payload = json.loads(path.read_bytes())
    gated = scrubbed(payload)
    ungated = normalize_event(payload, event_id="a" * 32, received_at=NOW).data
    full_look(ungated)
    assert gated == ungated


# Pieces of text where the gate's JSON view and the walk's string view differ most: sensitive
# words, separators, quotes, backslashes, control and non-ASCII characters, digits, URLs.
_ATOMS = [
    "password", "Token", "AUTH", "api-key", "sessionid", "Cookie", "bearer", "prose", "x", "",
    "=", ":", ": ", "\\", '"', "'", "\n", "\t", "\u00a0", "\u212a", "\u017f", "é", "&", ";",
    "[", "]", "4111", " 1111", "-1111", "4111111111111111", "0.", "://u:p@h", "https://h/?a=b",
]  # fmt: skip
_text = st.lists(st.sampled_from(_ATOMS), max_size=6).map("".join)
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(st.tuples(_text, inner).map(list), max_size=3),  # [name, value] pairs
        st.dictionaries(_text, inner, max_size=4),
    ),
    max_leaves=12,
)
_event = st.fixed_dictionaries(
    {},
    optional={
        "extra": st.dictionaries(_text, _json, max_size=4),
        "contexts": st.dictionaries(_text, st.dictionaries(_text, _json, max_size=3), max_size=2),
        "request": st.fixed_dictionaries(
            {}, optional={"data": _json, "headers": st.dictionaries(_text, _text, max_size=3)}
        ),
        "message": _text,
        "breadcrumbs": st.lists(
            st.fixed_dictionaries({"message": _text, "data": st.dictionaries(_text, _json)}),
            max_size=2,
        ),
        "_custom": _json,
    },
)


@settings(max_examples=300, deadline=None)
@given(_event)
def test_the_gate_misses_nothing_on_generated_events(payload):
    gated = scrubbed(payload)
    ungated = normalize_event(copy.deepcopy(payload), event_id="a" * 32, received_at=NOW).data
    full_look(ungated)
    assert gated == ungated
