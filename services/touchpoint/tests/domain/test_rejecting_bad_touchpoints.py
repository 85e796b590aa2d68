"""Every kind of bad input is rejected with exactly the problem (field, rule) it deserves."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm_touchpoint.domain import (
    RULES,
    IngestionRules,
    Rejection,
    ValidatedTouchpoint,
    validate_touchpoint,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
EVENT_ID = "6f1c1b1e-3a4d-4c5e-8f70-0a1b2c3d4e5f"


def call(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": EVENT_ID,
        "channel": "call_center",
        "type": "call",
        "occurred_at": "2026-11-20T09:30:00+01:00",
        "identifiers": {"email": "ada@example.com", "phone": "+1 650 253 0000"},
        "traits": {"first_name": "Ada", "last_name": "Lovelace"},
        "properties": {"duration_seconds": 312, "reason": "billing", "satisfaction": 5},
    }
    return event | overrides


def of_type(kind: str, channel: str, /, **properties: Any) -> dict[str, Any]:
    return call(type=kind, channel=channel, properties=properties)


def order(**properties: Any) -> dict[str, Any]:
    base = {"order_id": "o-1", "amount": "19.90", "currency": "EUR",
            "items": [{"sku": "sku-1", "name": "Mug", "quantity": 1, "unit_price": "19.90"}]}
    return of_type("order", "web", **(base | properties))


def item(**fields: Any) -> dict[str, Any]:
    return {"sku": "sku-1", "quantity": 1, "unit_price": "1.00"} | fields


def without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = dict(event)
    target = copy
    for key in path[:-1]:
        target[key] = dict(target[key])
        target = target[key]
    del target[path[-1]]
    return copy


def at(moment: datetime) -> str:
    return moment.isoformat()


CASES: list[tuple[str, object, str, str]] = [
    # the event as a whole
    ("not an object", ["an", "event"], "", "type"),
    ("a string", "event", "", "type"),
    ("an unknown top-level field", call(colour="blue"), "colour", "extra_forbidden"),
    ("oversized", call(properties={"duration_seconds": 1, "reason": "x" * 40_000}),
     "", "too_large"),
    ("a NUL character", call(properties={"duration_seconds": 1, "reason": "bill\x00ing"}),
     "properties.reason", "encoding"),
    ("an unpaired surrogate", call(traits={"first_name": "Ad\ud800a"}),
     "traits.first_name", "encoding"),
    # event_id
    ("event_id missing", without(call(), "event_id"), "event_id", "required"),
    ("event_id not a uuid", call(event_id="42"), "event_id", "pattern"),
    ("event_id a number", call(event_id=42), "event_id", "type"),
    ("event_id the nil uuid", call(event_id="00000000-0000-0000-0000-000000000000"),
     "event_id", "pattern"),
    # channel and type
    ("channel unknown", call(channel="fax"), "channel", "enum"),
    ("channel missing", without(call(), "channel"), "channel", "required"),
    ("channel not a string", call(channel=["web"]), "channel", "enum"),
    ("type unknown", call(type="teleport"), "type", "unknown_type"),
    ("type missing", without(call(), "type"), "type", "required"),
    ("type not a string", call(type=7), "type", "type"),
    ("page view from the call center",
     of_type("page_view", "call_center", url="https://shop.example.com/"),
     "type", "channel_not_allowed"),
    ("call from the web", call(channel="web"), "type", "channel_not_allowed"),
    ("email open from a store", of_type("email_open", "store"), "type", "channel_not_allowed"),
    ("store visit from the web", of_type("store_visit", "web"), "type", "channel_not_allowed"),
    # occurred_at
    ("occurred_at without offset", call(occurred_at="2026-11-20T09:30:00"),
     "occurred_at", "timezone_required"),
    ("occurred_at beyond the clock skew", call(occurred_at=at(NOW + timedelta(minutes=6))),
     "occurred_at", "in_future"),
    ("occurred_at far in the future", call(occurred_at="2099-01-01T00:00:00Z"),
     "occurred_at", "in_future"),
    ("occurred_at not a time", call(occurred_at="yesterday"), "occurred_at", "datetime"),
    ("occurred_at a date only", call(occurred_at="2026-11-20"), "occurred_at", "datetime"),
    ("occurred_at not a real date", call(occurred_at="2026-02-30T10:00:00Z"),
     "occurred_at", "datetime"),
    ("occurred_at a unix timestamp", call(occurred_at=1_763_600_000), "occurred_at", "type"),
    ("occurred_at the unset clock", call(occurred_at="1970-01-01T00:00:00Z"),
     "occurred_at", "range"),
    ("occurred_at before year one in UTC", call(occurred_at="0001-01-01T00:00:00+01:00"),
     "occurred_at", "range"),
    # identifiers
    ("identifiers missing", without(call(), "identifiers"), "identifiers", "required"),
    ("identifiers not an object", call(identifiers=["ada@example.com"]), "identifiers", "type"),
    ("no identifiers", call(identifiers={}), "identifiers", "no_identifier"),
    ("only junk identifiers", call(identifiers={"email": "undefined", "phone": "0000"}),
     "identifiers", "no_identifier"),
    ("an invalid email", call(identifiers={"email": "ada@"}), "identifiers.email", "pattern"),
    ("an email without a domain dot", call(identifiers={"email": "ada@localhost"}),
     "identifiers.email", "pattern"),
    ("an email with a space", call(identifiers={"email": "ada lovelace@example.com"}),
     "identifiers.email", "pattern"),
    ("an email as a number", call(identifiers={"email": 42}), "identifiers.email", "type"),
    ("an invalid phone", call(identifiers={"phone": "12"}), "identifiers.phone", "pattern"),
    ("a phone of another region without its prefix", call(identifiers={"phone": "030 901820"}),
     "identifiers.phone", "pattern"),
    ("an unknown identifier kind", call(identifiers={"email": "a@b.example", "device_id": "d1"}),
     "identifiers.device_id", "extra_forbidden"),
    ("a customer number too long", call(identifiers={"customer_number": "C" * 201}),
     "identifiers.customer_number", "max_length"),
    ("a customer number with a control character",
     call(identifiers={"customer_number": "C-1\x1b[31m"}),
     "identifiers.customer_number", "pattern"),
    # traits
    ("traits not an object", call(traits="Ada"), "traits", "type"),
    ("an unknown trait", call(traits={"nickname": "Ada"}), "traits.nickname", "extra_forbidden"),
    ("a first name too long", call(traits={"first_name": "A" * 101}),
     "traits.first_name", "max_length"),
    ("a first name as a number", call(traits={"first_name": 1}), "traits.first_name", "type"),
    ("an unknown country", call(traits={"country": "XX"}), "traits.country", "country"),
    ("the country UK instead of GB", call(traits={"country": "UK"}), "traits.country", "country"),
    ("a birth date that is no date", call(traits={"birth_date": "1990-13-01"}),
     "traits.birth_date", "datetime"),
    ("a birth date in the future", call(traits={"birth_date": "2030-01-01"}),
     "traits.birth_date", "range"),
    ("a language that is no tag", call(traits={"language": "english!"}),
     "traits.language", "pattern"),
    # typed properties, generally
    ("properties of a typed type missing", without(call(), "properties"),
     "properties", "required"),
    ("properties not an object", call(properties=[1]), "properties", "type"),
    ("a property the type does not define",
     call(properties={"duration_seconds": 1, "mood": "happy"}),
     "properties.mood", "extra_forbidden"),
    # call
    ("satisfaction above 5", call(properties={"duration_seconds": 1, "satisfaction": 6}),
     "properties.satisfaction", "range"),
    ("satisfaction below 1", call(properties={"duration_seconds": 1, "satisfaction": 0}),
     "properties.satisfaction", "range"),
    ("satisfaction as a boolean", call(properties={"duration_seconds": 1, "satisfaction": True}),
     "properties.satisfaction", "type"),
    ("duration negative", call(properties={"duration_seconds": -1}),
     "properties.duration_seconds", "range"),
    ("duration longer than a day", call(properties={"duration_seconds": 86_401}),
     "properties.duration_seconds", "range"),
    ("duration a string", call(properties={"duration_seconds": "long"}),
     "properties.duration_seconds", "type"),
    ("duration a fraction", call(properties={"duration_seconds": 1.5}),
     "properties.duration_seconds", "type"),
    ("duration missing", call(properties={"reason": "billing"}),
     "properties.duration_seconds", "required"),
    ("an agent id too long", call(properties={"duration_seconds": 1, "agent_id": "a" * 201}),
     "properties.agent_id", "max_length"),
    # order and refund
    ("an unknown currency", order(currency="XYZ"), "properties.currency", "currency"),
    ("a test currency", order(currency="XTS"), "properties.currency", "currency"),
    ("a currency as a number", order(currency=978), "properties.currency", "type"),
    ("an amount as a JSON number", order(amount=19.9), "properties.amount", "decimal"),
    ("an amount as a JSON integer", order(amount=20), "properties.amount", "decimal"),
    ("an amount that is no decimal", order(amount="lots"), "properties.amount", "decimal"),
    ("an amount with a comma", order(amount="19,90"), "properties.amount", "decimal"),
    ("an amount in exponent notation", order(amount="1e3"), "properties.amount", "decimal"),
    ("a negative amount", order(amount="-1.00"), "properties.amount", "range"),
    ("an absurd amount", order(amount="1" * 16), "properties.amount", "range"),
    ("more decimals than the currency has", order(amount="19.999"),
     "properties.amount", "precision"),
    ("decimals on a currency without minor units", order(amount="100.5", currency="JPY",
                                                          items=[]),
     "properties.amount", "precision"),
    ("a unit price finer than four decimals",
     order(items=[item(unit_price="0.00001")]), "properties.items.0.unit_price", "precision"),
    ("a unit price as a number", order(items=[item(unit_price=1)]),
     "properties.items.0.unit_price", "decimal"),
    ("a quantity of zero", order(items=[item(quantity=0)]),
     "properties.items.0.quantity", "range"),
    ("an item without sku", order(items=[{"quantity": 1, "unit_price": "1.00"}]),
     "properties.items.0.sku", "required"),
    ("an item with an empty sku", order(items=[item(sku="  ")]),
     "properties.items.0.sku", "min_length"),
    ("items not a list", order(items={"sku": "s"}), "properties.items", "type"),
    ("too many items", order(items=[item() for _ in range(201)]),
     "properties.items", "max_items"),
    ("a placeholder order id", order(order_id="undefined"), "properties.order_id", "required"),
    ("an order field the contract lacks", order(coupon="SPRING"),
     "properties.coupon", "extra_forbidden"),
    ("an order without amount", without(order(), "properties", "amount"),
     "properties.amount", "required"),
    ("a refund of nothing", of_type("refund", "store", order_id="o-1", amount="0.00",
                                    currency="EUR"),
     "properties.amount", "range"),
    # survey_response
    ("nps above 10", of_type("survey_response", "email", nps=11), "properties.nps", "range"),
    ("csat below 1", of_type("survey_response", "email", csat=0), "properties.csat", "range"),
    ("a survey without a score", of_type("survey_response", "email", comment="meh"),
     "properties", "required"),
    ("a comment too long", of_type("survey_response", "web", nps=9, comment="x" * 2001),
     "properties.comment", "max_length"),
    # complaint
    ("an unknown severity", of_type("complaint", "email", category="billing", severity="urgent"),
     "properties.severity", "enum"),
    ("a complaint without category", of_type("complaint", "email", severity="low"),
     "properties.category", "required"),
    # page_view
    ("a page view of an ftp url", of_type("page_view", "web", url="ftp://files.example.com/a"),
     "properties.url", "url"),
    ("a page view of no url", of_type("page_view", "web", url="not a url"),
     "properties.url", "url"),
    ("a relative referrer", of_type("page_view", "web", url="https://a.example/",
                                    referrer="/home"),
     "properties.referrer", "url"),
    ("a url too long", of_type("page_view", "web", url="https://a.example/" + "p" * 2048),
     "properties.url", "max_length"),
    # consent
    ("consent granted as a string",
     of_type("consent", "web", channel="email", purpose="marketing", granted="yes"),
     "properties.granted", "type"),
    ("consent for an unknown purpose",
     of_type("consent", "web", channel="email", purpose="spam", granted=True),
     "properties.purpose", "enum"),
    ("consent for an unknown contact channel",
     of_type("consent", "web", channel="fax", purpose="marketing", granted=True),
     "properties.channel", "enum"),
    # generic properties
    ("generic properties too deep",
     of_type("login", "web", a={"b": {"c": {"d": {"e": {"f": 1}}}}}),
     "properties.a.b.c.d.e", "too_deep"),
    ("a generic string too long", of_type("login", "web", note="x" * 2001),
     "properties.note", "max_length"),
    ("a generic number that is not finite", of_type("login", "web", score=float("nan")),
     "properties.score", "type"),
    ("a generic integer beyond 2^53", of_type("login", "web", big=2**53 + 1),
     "properties.big", "range"),
    ("a generic list too long", of_type("login", "web", tags=list(range(201))),
     "properties.tags", "max_items"),
    ("a generic property with an empty name", of_type("login", "web", **{"": 1}),
     "properties.", "pattern"),
    ("generic properties not an object", call(type="login", channel="web", properties="x"),
     "properties", "type"),
]


@pytest.mark.parametrize(("raw", "field", "rule"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_rejects_bad_input_naming_exactly_the_field_and_the_rule(
    raw: object, field: str, rule: str
) -> None:
    result = validate_touchpoint(raw, now=NOW)

    assert isinstance(result, Rejection), result
    assert [(problem.field, problem.rule) for problem in result.problems] == [(field, rule)]
    assert result.problems[0].message


def test_the_bad_input_table_starts_from_events_that_are_accepted() -> None:
    samples = [call(), order(), of_type("survey_response", "email", nps=9),
               of_type("page_view", "web", url="https://a.example/"), of_type("login", "web")]

    for sample in samples:
        assert isinstance(validate_touchpoint(sample, now=NOW), ValidatedTouchpoint), sample


def test_accepts_an_event_within_the_clock_skew_tolerance() -> None:
    result = validate_touchpoint(call(occurred_at=at(NOW + timedelta(minutes=4))), now=NOW)

    assert isinstance(result, ValidatedTouchpoint)


def test_accepts_old_events_because_they_are_backfills() -> None:
    result = validate_touchpoint(call(occurred_at="1998-03-01T08:00:00-05:00"), now=NOW)

    assert isinstance(result, ValidatedTouchpoint)


def test_the_clock_skew_tolerance_is_configurable() -> None:
    strict = IngestionRules(future_tolerance=timedelta(0))

    result = validate_touchpoint(call(occurred_at=at(NOW + timedelta(seconds=1))), now=NOW,
                                 rules=strict)

    assert isinstance(result, Rejection)
    assert result.problems[0].rule == "in_future"


def test_lists_every_problem_not_just_the_first() -> None:
    raw = call(
        channel="fax",
        occurred_at="2026-11-20T09:30:00",
        identifiers={"email": "ada@", "phone": "12"},
        traits={"country": "XX"},
        properties={"duration_seconds": -1, "satisfaction": 9},
    )

    result = validate_touchpoint(raw, now=NOW)

    assert isinstance(result, Rejection)
    assert {(problem.field, problem.rule) for problem in result.problems} == {
        ("channel", "enum"),
        ("occurred_at", "timezone_required"),
        ("identifiers.email", "pattern"),
        ("identifiers.phone", "pattern"),
        ("traits.country", "country"),
        ("properties.duration_seconds", "range"),
        ("properties.satisfaction", "range"),
    }


def test_reports_the_envelope_problems_even_when_the_type_is_unknown() -> None:
    raw = call(type="teleport", channel="fax", identifiers={})

    result = validate_touchpoint(raw, now=NOW)

    assert isinstance(result, Rejection)
    assert {(problem.field, problem.rule) for problem in result.problems} == {
        ("type", "unknown_type"), ("channel", "enum"), ("identifiers", "no_identifier"),
    }


def test_reports_a_channel_mismatch_together_with_property_problems() -> None:
    raw = of_type("page_view", "call_center", url="ftp://x.example/")

    result = validate_touchpoint(raw, now=NOW)

    assert isinstance(result, Rejection)
    assert {(problem.field, problem.rule) for problem in result.problems} == {
        ("properties.url", "url"), ("type", "channel_not_allowed"),
    }


def test_a_rejection_carries_the_event_id_when_it_could_be_read() -> None:
    result = validate_touchpoint(call(channel="fax", event_id=EVENT_ID.upper()), now=NOW)

    assert isinstance(result, Rejection)
    assert result.event_id == EVENT_ID


@pytest.mark.parametrize("event_id", ["42", None, 7, "00000000-0000-0000-0000-000000000000"])
def test_a_rejection_has_no_event_id_when_it_is_not_a_valid_one(event_id: object) -> None:
    result = validate_touchpoint(call(event_id=event_id), now=NOW)

    assert isinstance(result, Rejection)
    assert result.event_id is None


def test_an_oversized_event_still_names_its_event_id() -> None:
    raw = call(properties={"duration_seconds": 1, "reason": "x" * 40_000})

    result = validate_touchpoint(raw, now=NOW)

    assert isinstance(result, Rejection)
    assert result.event_id == EVENT_ID


def test_the_size_limit_counts_utf8_bytes_of_compact_json() -> None:
    rules = IngestionRules(max_event_bytes=len(_compact(call())) + 10)
    grown = call(traits={"first_name": "Ada", "last_name": "Lovelace", "city": "Zürich"})

    assert len(_compact(grown)) > rules.max_event_bytes  # "ü" is two bytes
    assert isinstance(validate_touchpoint(call(), now=NOW, rules=rules), ValidatedTouchpoint)
    result = validate_touchpoint(grown, now=NOW, rules=rules)
    assert isinstance(result, Rejection)
    assert [problem.rule for problem in result.problems] == ["too_large"]


def test_generic_depth_and_size_limits_are_configurable() -> None:
    rules = IngestionRules(max_depth=2, max_items=2, max_string_length=3)
    raw = of_type("login", "web", a={"b": {"c": 1}}, tags=[1, 2, 3], note="long")

    result = validate_touchpoint(raw, now=NOW, rules=rules)

    assert isinstance(result, Rejection)
    assert {(problem.field, problem.rule) for problem in result.problems} == {
        ("properties.a.b", "too_deep"), ("properties", "max_items"),
        ("properties.tags", "max_items"), ("properties.note", "max_length"),
    }


def test_problems_speak_our_language_not_pydantics() -> None:
    raw = call(event_id=1, channel=2, type="call", occurred_at=[], identifiers={"x": 1},
               traits={"first_name": {}}, properties={"duration_seconds": "1"}, extra=1)

    result = validate_touchpoint(raw, now=NOW)

    assert isinstance(result, Rejection)
    for problem in result.problems:
        assert problem.rule in RULES
        assert problem.message.startswith(problem.field or "the event")
        assert "Input should" not in problem.message
        assert "pydantic" not in problem.message.lower()


def test_a_naive_clock_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_touchpoint(call(), now=datetime(2026, 11, 22, 12, 0))


def _compact(event: dict[str, Any]) -> bytes:
    import json

    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
