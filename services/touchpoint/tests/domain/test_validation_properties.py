"""Properties that hold for every input: validation never raises, and it is idempotent."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_touchpoint.domain import (
    ALLOWED_CHANNELS,
    RULES,
    TOUCHPOINT_TYPES,
    Rejection,
    ValidatedTouchpoint,
    touchpoint_from_proto,
    validate_touchpoint,
)
from crm_touchpoint.domain.fields import is_plain_http_url, is_usable_url

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

# Text as JSON parsers can produce it: any code point, lone surrogates and NUL included.
any_text = st.text(st.characters(exclude_categories=()), max_size=30)

# What json.loads can return (Python's parser also accepts NaN and Infinity).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(any_text, children, max_size=5),
    max_leaves=30,
)

ENVELOPE = ["event_id", "channel", "type", "occurred_at", "identifiers", "traits", "properties"]

SEEDS: dict[str, dict[str, Any]] = {
    "call": {"duration_seconds": 60, "reason": "billing", "satisfaction": 4},
    "order": {"order_id": "o-1", "amount": "19.90", "currency": "EUR",
              "items": [{"sku": "s", "name": "Mug", "quantity": 1, "unit_price": "19.90"}]},
    "refund": {"order_id": "o-1", "amount": "5.00", "currency": "USD"},
    "survey_response": {"nps": 9, "csat": 5, "comment": "great"},
    "complaint": {"category": "delivery", "severity": "low"},
    "page_view": {"url": "https://shop.example.com/", "title": "Home"},
    "consent": {"channel": "sms", "purpose": "marketing", "granted": True},
    "login": {"method": "sso", "attempts": [1, 2]},
}


def seed(kind: str) -> dict[str, Any]:
    return {
        "event_id": "9a7b3c1d-2e4f-4a6b-8c0d-1e2f3a4b5c6d",
        "channel": sorted(ALLOWED_CHANNELS[kind])[0],
        "type": kind,
        "occurred_at": "2026-11-20T09:30:00+01:00",
        "identifiers": {"email": "ada@example.com", "phone": "650 253 0000"},
        "traits": {"first_name": "Ada", "country": "GB"},
        "properties": dict(SEEDS[kind]),
    }


@st.composite
def near_valid_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with a few fields, top-level or nested, replaced or deleted."""
    event = seed(draw(st.sampled_from(sorted(SEEDS))))
    for _ in range(draw(st.integers(1, 3))):
        container: dict[str, Any] = event
        if draw(st.booleans()):
            nested = draw(st.sampled_from(["identifiers", "traits", "properties"]))
            if isinstance(event.get(nested), dict):
                container = event[nested]
        keys = [*container, draw(any_text)]
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 4)) == 0:
            container.pop(key, None)
        else:
            container[key] = draw(json_values)
    return event


def assert_well_formed(result: object) -> None:
    assert isinstance(result, ValidatedTouchpoint | Rejection)
    if isinstance(result, Rejection):
        assert result.problems
        for problem in result.problems:
            assert isinstance(problem.field, str)
            assert problem.rule in RULES
            assert problem.message
            # A problem document must always be renderable as UTF-8 JSON.
            json.dumps([problem.field, problem.message], ensure_ascii=False).encode()
    else:
        json.dumps(result.to_json(), allow_nan=False, ensure_ascii=False).encode()
        result.to_proto(received_at=NOW, source_key_id="k").SerializeToString()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_never_raises_and_yields_a_touchpoint_or_a_rejection(raw: Any) -> None:
    assert_well_formed(validate_touchpoint(raw, now=NOW))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid_events())
def test_near_valid_events_never_raise_and_yield_a_touchpoint_or_a_rejection(
    raw: dict[str, Any],
) -> None:
    assert_well_formed(validate_touchpoint(raw, now=NOW))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40), st.integers(0, 2000))
def test_nesting_of_any_depth_is_rejected_not_raised(depth: int, width: int) -> None:
    deep: Any = "leaf"
    for _ in range(depth * 25):
        deep = [deep] if width % 2 else {"k": deep}
    raw = seed("login") | {"properties": {"deep": deep}}

    assert_well_formed(validate_touchpoint(raw, now=NOW))


# --- idempotency over generated valid events -----------------------------------------

emails = st.builds(
    lambda user, domain, upper, pad: (" " * pad) + (f"{user}@{domain}".upper() if upper
                                                     else f"{user}@{domain}"),
    st.from_regex(r"[a-z][a-z0-9._+-]{0,10}[a-z0-9]", fullmatch=True).filter(
        lambda user: ".." not in user and user not in ("test", "email", "user")),
    st.sampled_from(["example.com", "shop.example.co.uk", "bücher.de"]),
    st.booleans(),
    st.integers(0, 2),
)
phones = st.sampled_from(["(650) 253-0000", "+1 650 253 0000", "+44 20 7946 0018",
                          "+49 30 901820", "415-555-2671"])
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,20}[A-Za-z0-9]", fullmatch=True).map(
    lambda text: f"id-{text}")
junk = st.sampled_from(["undefined", "null", "", "0000", None])
identifier_sets = st.fixed_dictionaries({}, optional={
    "customer_number": ids | junk, "loyalty_id": ids | junk, "email": emails | junk,
    "phone": phones | junk, "anonymous_id": ids,
}).filter(lambda found: any(value not in ("undefined", "null", "", "0000", None)
                            for value in found.values()))
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2026, 11, 22, 11),
                       timezones=st.just(UTC))
zones = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
amounts = st.decimals(min_value=0, max_value=10**9, places=2).map(str)
storable_text = st.characters(codec="utf-8", exclude_characters="\x00")
generic = st.dictionaries(
    st.text(storable_text, min_size=1, max_size=10),
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(storable_text, max_size=20)
    | st.lists(st.integers(-(2**53), 2**53), max_size=3),
    max_size=5,
)


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(TOUCHPOINT_TYPES))
    properties: dict[str, Any] = {
        "order": {"order_id": "o-1", "amount": draw(amounts), "currency": "EUR",
                  "items": [{"sku": "s", "quantity": draw(st.integers(1, 9)),
                             "unit_price": draw(amounts)}] * draw(st.integers(0, 2))},
        "refund": {"order_id": "o-1", "amount": "1.5", "currency": draw(
            st.sampled_from(["EUR", "jpy", "KWD"])).replace("jpy", "JPY")},
        "call": {"duration_seconds": draw(st.integers(0, 86_400)),
                 "agent_id": draw(ids | junk)},
        "survey_response": {"nps": draw(st.integers(0, 10)), "comment": draw(st.text(
            st.characters(codec="utf-8", exclude_categories=("Cc",), include_characters="\n\t"),
            max_size=50))},
        "complaint": {"category": "delivery", "severity": "critical"},
        "page_view": {"url": "https://shop.example.com/a?b=c", "referrer": None},
        "consent": {"channel": "push", "purpose": "survey", "granted": draw(st.booleans())},
    }.get(kind) or draw(generic)
    if kind == "refund" and properties["currency"] == "JPY":
        properties["amount"] = "2"
    moment = draw(moments).astimezone(draw(zones))
    return {
        "event_id": str(draw(st.uuids())),
        "channel": draw(st.sampled_from(sorted(ALLOWED_CHANNELS[kind]))),
        "type": kind,
        "occurred_at": moment.isoformat(),
        "identifiers": draw(identifier_sets),
        "traits": draw(st.fixed_dictionaries({}, optional={
            "first_name": st.sampled_from(["Ada", " Grace ", "undefined"]),
            "country": st.sampled_from(["gb", "DE", "fr"]),
            "language": st.sampled_from(["EN-gb", "de", "zh-hant-TW"]),
        })),
        "properties": properties,
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_events())
def test_validation_is_idempotent_on_its_own_output(raw: dict[str, Any]) -> None:
    first = validate_touchpoint(raw, now=NOW)
    assert isinstance(first, ValidatedTouchpoint), first

    again = validate_touchpoint(first.to_json(), now=NOW)

    assert again == first
    assert isinstance(again, ValidatedTouchpoint)
    assert again.to_json() == first.to_json()
    assert again.content_hash() == first.content_hash()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_events())
def test_every_accepted_touchpoint_round_trips_through_the_wire(raw: dict[str, Any]) -> None:
    touchpoint = validate_touchpoint(raw, now=NOW)
    assert isinstance(touchpoint, ValidatedTouchpoint), touchpoint

    shown = touchpoint_from_proto(touchpoint.to_proto(received_at=NOW, source_key_id="k"))

    assert {key: shown[key] for key in touchpoint.to_json()} == touchpoint.to_json()


# --- the plain-URL fast path never accepts what the general rule refuses -----------------

_URLISH = st.text(alphabet=st.sampled_from(list("htps:/[]@.-_?#%=&+ \t\n\u00a0\u2028aZ09")),
                  max_size=40)
_PLAIN_SHAPED = st.builds(
    lambda scheme, host, port, rest: f"{scheme}://{host}{port}{rest}",
    st.sampled_from(["http", "https", "HTTP", "ftp"]),
    st.text(alphabet=st.sampled_from(list("ab09.-_@[]:")), max_size=12),
    st.sampled_from(["", ":", ":80", ":x"]),
    st.text(max_size=20).map(lambda tail: "/" + tail),
)


@settings(max_examples=500)
@given(st.one_of(_URLISH, _PLAIN_SHAPED, st.text(max_size=40)))
def test_the_plain_url_fast_path_accepts_only_what_urlsplit_accepts(text: str) -> None:
    if is_plain_http_url(text):
        assert is_usable_url(text, schemes=frozenset({"http", "https"}))
        assert is_usable_url(text, schemes=None)


@pytest.mark.parametrize("url", [
    "https://shop.example.com/p/1?x=1#top", "http://localhost:8080", "https://a-b.c/",
])
def test_plain_urls_take_the_fast_path(url: str) -> None:
    assert is_plain_http_url(url)


@pytest.mark.parametrize("url", [
    "https://user@shop.example.com/", "HTTPS://shop.example.com/", "https://[::1]/",
    "https://shop.example.com/a b", "https:///path", "ftp://shop.example.com/",
])
def test_other_urls_are_left_to_the_general_rule(url: str) -> None:
    assert not is_plain_http_url(url)
