"""Every kind of bad input gets its exact 4xx and a problem naming the field and the rule."""

import uuid
from typing import Any

import httpx
import pytest
from touchpoint_samples import Keys, call_event, headers

from crm_touchpoint.domain import IngestionRules


def without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = {**event, path[0]: dict(event[path[0]])} if len(path) > 1 else dict(event)
    target = copy[path[0]] if len(path) > 1 else copy
    target.pop(path[-1])
    return copy


def order(**properties: Any) -> dict[str, Any]:
    base = {"order_id": "o-1", "amount": "19.90", "currency": "EUR",
            "items": [{"sku": "sku-1", "name": "Mug", "quantity": 1, "unit_price": "19.90"}]}
    return call_event(channel="web", type="order", properties=base | properties)


TOO_BIG = "x" * (IngestionRules().max_event_bytes + 1)

CASES = [
    ("event_id not a uuid", call_event(event_id="42"), 422, "event_id"),
    ("event_id missing", without(call_event(), "event_id"), 422, "event_id"),
    ("channel unknown", call_event(channel="fax"), 422, "channel"),
    ("type unknown", call_event(type="teleport"), 422, "type"),
    ("occurred_at without offset", call_event(occurred_at="2026-11-20T09:30:00"), 422,
     "occurred_at"),
    ("occurred_at in the future", call_event(occurred_at="2099-01-01T00:00:00Z"), 422,
     "occurred_at"),
    ("occurred_at not a time", call_event(occurred_at="yesterday"), 422, "occurred_at"),
    ("satisfaction above 5", call_event(properties={"duration_seconds": 1, "satisfaction": 6}),
     422, "properties.satisfaction"),
    ("duration negative", call_event(properties={"duration_seconds": -1}), 422,
     "properties.duration_seconds"),
    ("duration a string", call_event(properties={"duration_seconds": "long"}), 422,
     "properties.duration_seconds"),
    ("unknown currency", order(currency="XYZ"), 422, "properties.currency"),
    ("amount as a number", order(amount=19.9), 422, "properties.amount"),
    ("amount not a decimal", order(amount="lots"), 422, "properties.amount"),
    ("nps out of range", call_event(channel="email", type="survey_response",
                                    properties={"nps": 11}), 422, "properties.nps"),
    ("no identifiers", call_event(identifiers={}), 422, "identifiers"),
    ("only junk identifiers", call_event(identifiers={"email": "undefined", "phone": "0000"}),
     422, "identifiers"),
    ("invalid phone", call_event(identifiers={"phone": "12"}), 422, "identifiers.phone"),
    ("page view from the call center", call_event(type="page_view",
                                                  properties={"url": "https://x.example"}),
     422, "type"),
    ("unknown top-level field", call_event(colour="blue"), 422, "colour"),
    ("oversized event", call_event(traits={"note": TOO_BIG}), 413, ""),
]


@pytest.mark.parametrize(("case", "event", "status", "field"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_refused_naming_the_field(
    client: httpx.AsyncClient, keys: Keys, case: str, event: dict[str, Any], status: int,
    field: str,
) -> None:
    reply = await client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))

    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    problem = reply.json()
    assert problem["type"] == "urn:crm:problem:invalid-touchpoint"
    fields = [error["field"] for error in problem["errors"]]
    assert field in fields, problem["errors"]
    assert all(error["rule"] and error["message"] for error in problem["errors"])


async def test_junk_identifiers_are_dropped_with_a_warning_when_a_good_one_remains(
    client: httpx.AsyncClient, keys: Keys,
) -> None:
    event = call_event(event_id=str(uuid.uuid4()),
                       identifiers={"email": "ada@example.org", "phone": "undefined"})
    reply = await client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))

    assert reply.status_code == 202, reply.text
    assert any("identifiers.phone" in warning for warning in reply.json()["warnings"])
