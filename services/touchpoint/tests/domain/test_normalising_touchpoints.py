"""The same person and the same facts look the same whichever channel and format sent them."""

from datetime import UTC, datetime
from typing import Any

import pytest

from crm_touchpoint.domain import (
    GenericProperties,
    Identifier,
    IngestionRules,
    OrderProperties,
    Rejection,
    ValidatedTouchpoint,
    normalise_identifier,
    validate_touchpoint,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DEFAULTS = IngestionRules()


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "0b8f4a4e-55a1-4a43-9d1e-3c5f0f5d2c11",
        "channel": "web",
        "type": "login",
        "occurred_at": "2026-11-20T09:30:00+01:00",
        "identifiers": {"anonymous_id": "web-7f3a"},
    }
    return base | overrides


def accepted(raw: dict[str, Any], rules: IngestionRules = DEFAULTS) -> ValidatedTouchpoint:
    result = validate_touchpoint(raw, now=NOW, rules=rules)
    assert isinstance(result, ValidatedTouchpoint), result
    return result


def identifier(kind: str, value: object, rules: IngestionRules = DEFAULTS) -> str | None:
    found = accepted(event(identifiers={"anonymous_id": "a-1", kind: value}), rules)
    return next((i.value for i in found.identifiers if i.type == kind), None)


# --- identifiers ----------------------------------------------------------------------


@pytest.mark.parametrize("sent", [
    "ada.lovelace@example.com", "  Ada.Lovelace@Example.COM ", "ADA.LOVELACE@EXAMPLE.COM",
    "\tada.lovelace@example.com\n",
])
def test_emails_are_trimmed_and_lower_cased(sent: str) -> None:
    assert identifier("email", sent) == "ada.lovelace@example.com"


@pytest.mark.parametrize("sent", [
    "user+tag@sub.example.co.uk", "o'brien@example.ie", "jörg@bücher.de", "a@b.xn--p1ai",
])
def test_unusual_but_real_email_addresses_are_accepted(sent: str) -> None:
    assert identifier("email", sent) == sent.lower()


@pytest.mark.parametrize("sent", [
    "(650) 253-0000", "650-253-0000", "650.253.0000", "6502530000", "+1 650 253 0000",
    "+1-650-253-0000", "1 (650) 253-0000", "+16502530000", "011 1 650 253 0000",
    " +1 (650) 253-0000 ",
])
def test_one_persons_phone_in_national_and_international_formats_is_one_e164_number(
    sent: str,
) -> None:
    assert identifier("phone", sent) == "+16502530000"


def test_national_phone_numbers_are_read_in_the_configured_default_region() -> None:
    german = IngestionRules(default_region="de")

    assert identifier("phone", "030 901820", german) == "+4930901820"
    assert identifier("phone", "+1 650 253 0000", german) == "+16502530000"


def test_an_unknown_default_region_is_refused_when_configured() -> None:
    with pytest.raises(ValueError, match="region"):
        IngestionRules(default_region="XX")


@pytest.mark.parametrize("kind", ["customer_number", "loyalty_id", "anonymous_id"])
def test_numbers_and_ids_are_trimmed_but_otherwise_kept(kind: str) -> None:
    assert identifier(kind, "  AB 00123-x ") == "AB 00123-x"


JUNK = ["null", "NULL", "undefined", "Undefined", "[object Object]", "NaN", "none", "None",
        "", "   ", "0", "0000000", "000-000-0000", "+0 (000) 000", "n/a", "nil", "unknown"]


@pytest.mark.parametrize("kind", ["customer_number", "loyalty_id", "email", "phone"])
@pytest.mark.parametrize("junk", JUNK)
def test_junk_identifiers_are_dropped_with_a_warning(kind: str, junk: str) -> None:
    found = accepted(event(identifiers={"anonymous_id": "a-1", kind: junk}))

    assert found.identifiers == (Identifier("anonymous_id", "a-1"),)
    assert found.warnings == (f"identifiers.{kind}: dropped junk value {junk!r}",)


def test_a_null_identifier_is_dropped_with_a_warning() -> None:
    found = accepted(event(identifiers={"anonymous_id": "a-1", "phone": None}))

    assert found.identifiers == (Identifier("anonymous_id", "a-1"),)
    assert found.warnings == ("identifiers.phone: dropped junk value null",)


@pytest.mark.parametrize("address", ["test@example.com", " TEST@Example.com "])
def test_configured_test_addresses_are_dropped_whatever_their_case(address: str) -> None:
    found = accepted(event(identifiers={"anonymous_id": "a-1", "email": address}))

    assert [i.type for i in found.identifiers] == ["anonymous_id"]
    assert found.warnings == (f"identifiers.email: dropped test address {address.strip()!r}",)


def test_test_addresses_are_configurable_and_compared_normalised() -> None:
    rules = IngestionRules(test_addresses=frozenset({" Nobody@Shop.Example "}))

    assert identifier("email", "nobody@shop.example", rules) is None
    assert identifier("email", "test@example.com", rules) == "test@example.com"


def test_an_event_left_without_identifiers_after_dropping_junk_is_rejected() -> None:
    result = validate_touchpoint(
        event(identifiers={"email": "test@example.com", "phone": "undefined", "loyalty_id": ""}),
        now=NOW,
    )

    assert isinstance(result, Rejection)
    assert [(p.field, p.rule) for p in result.problems] == [("identifiers", "no_identifier")]


def test_identifiers_are_ordered_strongest_first() -> None:
    found = accepted(event(identifiers={
        "anonymous_id": "web-1", "phone": "650 253 0000", "email": "ada@example.com",
        "loyalty_id": "L-9", "customer_number": "C-1",
    }))

    assert [i.type for i in found.identifiers] == [
        "customer_number", "loyalty_id", "email", "phone", "anonymous_id"]


@pytest.mark.parametrize(("identifiers", "strongest"), [
    ({"anonymous_id": "w-1", "phone": "650 253 0000", "email": "Ada@Example.com",
      "loyalty_id": "L-9", "customer_number": " C-1 "}, {"customer_number": "C-1"}),
    ({"anonymous_id": "w-1", "phone": "650 253 0000", "email": "Ada@Example.com",
      "loyalty_id": "L-9"}, {"loyalty_id": "L-9"}),
    ({"anonymous_id": "w-1", "phone": "650 253 0000", "email": "Ada@Example.com"},
     {"email": "ada@example.com"}),
    ({"anonymous_id": "w-1", "phone": "650 253 0000"}, {"phone": "+1 650-253-0000"}),
    ({"anonymous_id": "w-1"}, {"anonymous_id": "w-1"}),
    ({"anonymous_id": "w-1", "customer_number": "undefined"}, {"anonymous_id": "w-1"}),
])
def test_the_partition_key_is_the_strongest_usable_identifier_under_a_keyed_hash(
    identifiers: dict[str, str], strongest: dict[str, str]
) -> None:
    key = accepted(event(identifiers=identifiers)).partition_key(b"secret")
    [(kind, value)] = strongest.items()

    assert key == accepted(event(identifiers=strongest)).partition_key(b"secret")
    assert key.startswith(f"{kind}:")
    assert len(key) == len(kind) + 1 + 32
    assert value.strip().lower() not in key.lower()
    assert key != accepted(event(identifiers=strongest)).partition_key(b"other secret")


def test_different_identifiers_have_different_partition_keys() -> None:
    keys = {accepted(event(identifiers={"email": f"p{i}@example.com"})).partition_key(b"s")
            for i in range(100)}

    assert len(keys) == 100


def test_identifiers_normalise_the_same_way_outside_an_event() -> None:
    assert normalise_identifier("email", " Ada@Example.COM") == "ada@example.com"
    assert normalise_identifier("phone", "(650) 253-0000") == "+16502530000"


# --- time -----------------------------------------------------------------------------


@pytest.mark.parametrize("sent", [
    "2026-11-20T09:30:00+01:00", "2026-11-20T08:30:00Z", "2026-11-20t08:30:00z",
    "2026-11-20 08:30:00Z", "2026-11-20T03:30:00-05:00", "2026-11-20T08:30:00.000000Z",
])
def test_occurred_at_is_normalised_to_utc(sent: str) -> None:
    found = accepted(event(occurred_at=sent))

    assert found.occurred_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert found.occurred_at.utcoffset() is not None
    assert found.to_json()["occurred_at"] == "2026-11-20T08:30:00Z"


def test_occurred_at_keeps_microseconds_and_drops_finer_digits() -> None:
    found = accepted(event(occurred_at="2026-11-20T08:30:00.123456789Z"))

    assert found.occurred_at.microsecond == 123456
    assert found.to_json()["occurred_at"] == "2026-11-20T08:30:00.123456Z"


# --- traits ---------------------------------------------------------------------------


def test_traits_are_trimmed_and_codes_put_in_their_canonical_case() -> None:
    found = accepted(event(traits={
        "first_name": "  Ada ", "country": "gb", "language": "EN-gb", "postal_code": " sw1a  1aa",
        "birth_date": "1915-12-10",
    }))

    assert found.traits == {"first_name": "Ada", "country": "GB", "language": "en-GB",
                            "postal_code": "SW1A 1AA", "birth_date": "1915-12-10"}


def test_junk_traits_are_dropped_with_a_warning() -> None:
    found = accepted(event(traits={"first_name": "undefined", "city": None, "last_name": "L"}))

    assert found.traits == {"last_name": "L"}
    assert found.warnings == ("traits.first_name: dropped junk value 'undefined'",
                              "traits.city: dropped junk value null")


# --- properties -----------------------------------------------------------------------


def order(**properties: Any) -> dict[str, Any]:
    return event(type="order", properties={"order_id": "o-1", "currency": "EUR"} | properties)


@pytest.mark.parametrize(("currency", "sent", "kept"), [
    ("EUR", "19.9", "19.90"),
    ("EUR", "19.90", "19.90"),
    ("EUR", "19.900", "19.90"),
    ("EUR", "007.5", "7.50"),
    ("EUR", "0", "0.00"),
    ("EUR", "-0", "0.00"),
    ("JPY", "1200", "1200"),
    ("JPY", "1200.0", "1200"),
    ("KWD", "1.5", "1.500"),
    ("eur", "5", "5.00"),
])
def test_amounts_are_kept_as_canonical_decimal_strings_of_their_currency(
    currency: str, sent: str, kept: str
) -> None:
    found = accepted(order(currency=currency, amount=sent))

    assert isinstance(found.properties, OrderProperties)
    assert found.properties.amount == kept
    assert found.properties.currency == currency.upper()


def test_unit_prices_may_go_below_the_minor_unit() -> None:
    found = accepted(order(amount="17.99", items=[
        {"sku": "fuel", "quantity": 10, "unit_price": "1.7990"}]))

    assert isinstance(found.properties, OrderProperties)
    assert found.properties.items[0].unit_price == "1.799"


def test_empty_optional_strings_are_absent() -> None:
    found = accepted(event(type="call", channel="call_center",
                           properties={"duration_seconds": 0, "reason": " ", "agent_id": ""}))

    assert found.to_json()["properties"] == {"duration_seconds": 0}


def test_placeholder_optional_properties_are_dropped_with_a_warning() -> None:
    found = accepted(event(type="call", channel="call_center",
                           properties={"duration_seconds": 5, "agent_id": "undefined"}))

    assert found.to_json()["properties"] == {"duration_seconds": 5}
    assert found.warnings == ("properties.agent_id: dropped junk value 'undefined'",)


def test_whole_generic_numbers_are_integers() -> None:
    found = accepted(event(properties={"count": 2.0, "ratio": 0.5, "nested": [1.0, {"x": -0.0}]}))

    assert found.properties == GenericProperties(
        {"count": 2, "ratio": 0.5, "nested": [1, {"x": 0}]})
    shown = found.to_json()["properties"]
    assert isinstance(shown, dict)
    assert isinstance(shown["count"], int)


def test_generic_types_without_properties_have_empty_properties() -> None:
    found = accepted(event())

    assert found.properties == GenericProperties({})
    assert found.to_json()["properties"] == {}
