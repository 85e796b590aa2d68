"""What identifies an accepted touchpoint (its content hash) and how it travels (protobuf)."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import pack_payload, to_timestamp
from crm_touchpoint.domain import (
    TOUCHPOINT_TYPES,
    ValidatedTouchpoint,
    touchpoint_from_proto,
    validate_touchpoint,
)
from crm_touchpoint.domain.touchpoint import canonical_json

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 11, 22, 12, 0, 0, 250_000, tzinfo=UTC)
SERVER_FIELDS = ("received_at", "warnings", "source_key_id")

# One accepted example of every type in the catalogue: (channel, properties).
EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "order": ("web", {"order_id": "o-1", "amount": "39.8", "currency": "EUR", "items": [
        {"sku": "mug", "name": "Mug", "quantity": 2, "unit_price": "19.90"},
        {"sku": "gift-wrap", "quantity": 1, "unit_price": "0"}]}),
    "refund": ("store", {"order_id": "o-1", "amount": "19.90", "currency": "EUR"}),
    "call": ("call_center", {"duration_seconds": 312, "reason": "billing", "outcome": "resolved",
                             "agent_id": "agent-17", "satisfaction": 5}),
    "survey_response": ("email", {"nps": 0, "comment": "Slow delivery"}),
    "complaint": ("social", {"category": "delivery", "severity": "high"}),
    "page_view": ("web", {"url": "https://shop.example.com/pricing",
                          "referrer": "https://search.example/?q=mugs", "title": "Pricing"}),
    "consent": ("store", {"channel": "email", "purpose": "marketing", "granted": False}),
    "form_submit": ("web", {"form": "contact", "fields": ["name", "email"], "valid": True}),
    "sign_up": ("store", {}),
    "login": ("mobile_app", {"method": "password", "attempt": 2, "ratio": 0.25, "none": None}),
    "product_view": ("web", {"sku": "mug", "price": "19.90"}),
    "add_to_cart": ("web", {"sku": "mug", "quantity": 1}),
    "profile_update": ("call_center", {}),
    "store_visit": ("store", {"store_id": "berlin-1", "dwell": {"minutes": 12}}),
    "email_sent": ("email", {"campaign_id": "c-1"}),
    "email_open": ("email", {"campaign_id": "c-1"}),
    "email_click": ("email", {"campaign_id": "c-1", "url": "https://shop.example.com/sale"}),
    "email_bounce": ("email", {"kind": "hard"}),
    "sms_sent": ("sms", {"campaign_id": "c-2"}),
    "sms_reply": ("sms", {"text": "STOP"}),
    "app_open": ("mobile_app", {"version": "5.2.1"}),
    "push_open": ("mobile_app", {"campaign_id": "c-3"}),
    "direct_mail_sent": ("direct_mail", {"piece": "catalogue-spring"}),
    "social_message": ("social", {"network": "mastodon"}),
    "complaint_resolved": ("call_center", {"complaint_event_id": "c-1", "category": "billing"}),
}


def example(kind: str, **overrides: Any) -> dict[str, Any]:
    channel, properties = EXAMPLES[kind]
    event: dict[str, Any] = {
        "event_id": "2d9c3f5a-7b1e-4c8d-9e0f-a1b2c3d4e5f6",
        "channel": channel,
        "type": kind,
        "occurred_at": "2026-11-20T09:30:00.5+01:00",
        "identifiers": {"email": " Ada@Example.com", "phone": "(650) 253-0000",
                        "customer_number": "C-1", "loyalty_id": "undefined"},
        "traits": {"first_name": "Ada", "country": "gb"},
        "properties": properties,
    }
    return event | overrides


def accepted(raw: dict[str, Any]) -> ValidatedTouchpoint:
    result = validate_touchpoint(raw, now=NOW)
    assert isinstance(result, ValidatedTouchpoint), result
    return result


def test_every_type_in_the_catalogue_has_an_example() -> None:
    assert sorted(EXAMPLES) == sorted(TOUCHPOINT_TYPES)


# --- content hash ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", TOUCHPOINT_TYPES)
def test_the_same_event_twice_has_the_same_content_hash(kind: str) -> None:
    first, second = accepted(example(kind)), accepted(example(kind))

    assert first == second
    assert first.content_hash() == second.content_hash()
    assert len(first.content_hash()) == 32


@pytest.mark.parametrize("kind", TOUCHPOINT_TYPES)
def test_the_content_hash_is_the_sha256_of_the_documented_canonical_json(kind: str) -> None:
    # Stored hashes tell duplicates from conflicts for good: the form must never change.
    touchpoint = accepted(example(kind))
    canonical = json.dumps(touchpoint.to_json(), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)

    expected = hashlib.sha256(b"crm.touchpoint.content.v1\n" + canonical.encode()).digest()
    assert touchpoint.content_hash() == expected


_JSON_WITHOUT_FLOATS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=6), inner,
                      max_size=4),
    max_leaves=20,
)


@given(_JSON_WITHOUT_FLOATS)
def test_canonical_json_writes_the_bytes_of_sorted_compact_json_dumps(document: Any) -> None:
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert canonical_json(document) == expected.encode()


def test_the_partition_key_is_a_keyed_hash_of_the_strongest_identifier() -> None:
    touchpoint = accepted(example("call"))
    digest = hmac.new(b"secret", b"customer_number:C-1", hashlib.sha256).hexdigest()

    assert touchpoint.partition_key(b"secret") == f"customer_number:{digest[:32]}"


def test_events_that_differ_only_in_formatting_have_the_same_content_hash() -> None:
    plain = accepted(example("order"))
    formatted = accepted(example(
        "order",
        event_id="2D9C3F5A-7B1E-4C8D-9E0F-A1B2C3D4E5F6",
        occurred_at="2026-11-20T08:30:00.500Z",
        identifiers={"email": "ADA@example.COM ", "phone": "+1 650-253-0000",
                     "customer_number": " C-1"},
        traits={"country": "GB", "first_name": "Ada "},
        properties={"currency": "eur", "order_id": "o-1", "amount": "39.80", "items": [
            {"sku": "mug", "name": "Mug", "quantity": 2, "unit_price": "19.9"},
            {"sku": "gift-wrap", "quantity": 1, "unit_price": "0.00"}]},
    ))

    assert formatted.content_hash() == plain.content_hash()
    assert formatted == plain


def test_dropped_junk_and_warnings_do_not_change_the_content_hash() -> None:
    with_junk = accepted(example("call"))
    without_junk = accepted(example("call", identifiers={
        "email": "ada@example.com", "phone": "+16502530000", "customer_number": "C-1"}))

    assert with_junk.warnings and not without_junk.warnings
    assert with_junk.content_hash() == without_junk.content_hash()


CHANGES: dict[str, dict[str, Any]] = {
    "event_id": {"event_id": "2d9c3f5a-7b1e-4c8d-9e0f-a1b2c3d4e5f7"},
    "channel": {"channel": "mobile_app"},
    "occurred_at by a microsecond": {"occurred_at": "2026-11-20T09:30:00.500001+01:00"},
    "an identifier's value": {"identifiers": {"email": "ada2@example.com",
                                              "phone": "(650) 253-0000", "customer_number": "C-1"}},
    "one more identifier": {"identifiers": {"email": "ada@example.com", "phone": "(650) 253-0000",
                                            "customer_number": "C-1", "anonymous_id": "w-1"}},
    "a trait": {"traits": {"first_name": "Ada", "country": "FR"}},
    "one more trait": {"traits": {"first_name": "Ada", "country": "GB", "city": "London"}},
    "an amount": {"properties": EXAMPLES["order"][1] | {"amount": "39.81"}},
    "a currency": {"properties": EXAMPLES["order"][1] | {"currency": "GBP"}},
    "an item": {"properties": EXAMPLES["order"][1] | {"items": []}},
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_of_content_changes_the_content_hash(change: str) -> None:
    original = accepted(example("order"))
    changed = accepted(example("order", **CHANGES[change]))

    assert changed.content_hash() != original.content_hash()
    assert changed != original


def test_a_different_type_with_the_same_properties_has_another_content_hash() -> None:
    opened = accepted(example("email_open"))
    sent = accepted(example("email_sent", properties=EXAMPLES["email_open"][1]))

    assert sent.content_hash() != opened.content_hash()


# --- JSON and idempotency -------------------------------------------------------------


@pytest.mark.parametrize("kind", TOUCHPOINT_TYPES)
def test_validating_the_normalised_json_again_gives_the_same_touchpoint(kind: str) -> None:
    first = accepted(example(kind))

    second = accepted(first.to_json())

    assert second == first
    assert second.to_json() == first.to_json()
    assert second.content_hash() == first.content_hash()
    assert second.warnings == ()


def test_the_json_shape_is_the_posted_shape_normalised() -> None:
    shown = accepted(example("order")).to_json()

    assert shown == {
        "event_id": "2d9c3f5a-7b1e-4c8d-9e0f-a1b2c3d4e5f6",
        "channel": "web",
        "type": "order",
        "occurred_at": "2026-11-20T08:30:00.500000Z",
        "identifiers": {"customer_number": "C-1", "email": "ada@example.com",
                        "phone": "+16502530000"},
        "traits": {"first_name": "Ada", "country": "GB"},
        "properties": {"order_id": "o-1", "currency": "EUR", "amount": "39.80", "items": [
            {"sku": "mug", "name": "Mug", "quantity": 2, "unit_price": "19.90"},
            {"sku": "gift-wrap", "quantity": 1, "unit_price": "0.00"}]},
    }


# --- wire -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", TOUCHPOINT_TYPES)
def test_the_wire_message_reads_back_as_the_normalised_json(kind: str) -> None:
    touchpoint = accepted(example(kind))

    message = touchpoint.to_proto(received_at=RECEIVED, source_key_id="key-web-1")
    decoded = TouchpointRecorded.FromString(message.SerializeToString(deterministic=True))
    shown = touchpoint_from_proto(decoded)

    assert {key: value for key, value in shown.items() if key not in SERVER_FIELDS} == (
        touchpoint.to_json())
    assert shown["received_at"] == "2026-11-22T12:00:00.250000Z"
    assert shown["source_key_id"] == "key-web-1"
    assert shown["warnings"] == list(touchpoint.warnings)
    assert shown["warnings"] == ["identifiers.loyalty_id: dropped junk value 'undefined'"]


def test_the_wire_message_carries_typed_fields_and_stable_identifier_order() -> None:
    message = accepted(example("order")).to_proto(received_at=RECEIVED, source_key_id="k")

    assert message.WhichOneof("properties") == "order"
    assert message.order.amount.amount == "39.80"
    assert message.order.amount.currency == "EUR"
    assert message.order.items[1].unit_price.currency == "EUR"
    assert [identifier.value for identifier in message.identifiers] == [
        "C-1", "ada@example.com", "+16502530000"]
    assert message.occurred_at == to_timestamp(datetime(2026, 11, 20, 8, 30, 0, 500_000,
                                                        tzinfo=UTC))
    assert message.received_at == to_timestamp(RECEIVED)


@pytest.mark.parametrize("moment", [
    datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, tzinfo=UTC) + timedelta(microseconds=7),
    datetime(2026, 11, 22, 11, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=-3))),
])
def test_timestamps_on_the_wire_agree_with_the_contract_helper(moment: datetime) -> None:
    touchpoint = accepted(example("login", occurred_at=moment.isoformat()))

    message = touchpoint.to_proto(received_at=moment, source_key_id="k")

    assert message.occurred_at == to_timestamp(moment)
    assert message.received_at == to_timestamp(moment)


def test_absent_optionals_stay_absent_across_the_wire() -> None:
    touchpoint = accepted(example("survey_response", properties={"csat": 4}))

    message = touchpoint.to_proto(received_at=RECEIVED, source_key_id="k")

    assert not message.survey_response.HasField("nps")
    assert touchpoint_from_proto(message)["properties"] == {"csat": 4}


def test_a_naive_received_at_is_refused() -> None:
    touchpoint = accepted(example("login"))

    with pytest.raises(ValueError, match="naive"):
        touchpoint.to_proto(received_at=datetime(2026, 11, 22, 12, 0), source_key_id="k")


def test_the_wire_message_is_a_catalogued_event() -> None:
    message = accepted(example("call")).to_proto(received_at=RECEIVED, source_key_id="k")

    event_type, payload = pack_payload(message)

    assert event_type == "crm.touchpoints.v1.TouchpointRecorded"
    assert TouchpointRecorded.FromString(payload) == message
