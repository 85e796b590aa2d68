"""Through HTTP only: a call-center call and a web visit of one person, written
differently, become one record found by every identifier, with both channels' history."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from crm_devstack.testing import core_pipeline, eventually

pytestmark = pytest.mark.slow

KEY = "crm_e2eUnified_" + "k" * 40


@pytest.fixture
async def platform(postgres_url: str, kafka_bootstrap: str) -> AsyncIterator[dict[str, str]]:
    async with core_pipeline(postgres_url, kafka_bootstrap, KEY) as services:
        yield {name: service.url for name, service in services.items()}


async def test_a_call_and_a_web_visit_of_one_person_make_one_record_found_by_any_identifier(
    platform: dict[str, str],
) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    # This person's own identifiers: the pipeline reads the shared topics from the start,
    # touchpoints other tests posted included, and the examples' phone number is in many.
    run = uuid.uuid4().hex[:8]
    line = f"{uuid.uuid4().int % 9000 + 1000}"
    call = {"event_id": str(uuid.uuid4()), "channel": "call_center", "type": "call",
            "occurred_at": "2026-11-20T09:30:00+01:00",
            "identifiers": {"phone": f"(415) 555-{line}",
                            "email": f" Ada.Lovelace.{run}@Example.COM"},
            "traits": {"first_name": "Ada"},
            "properties": {"duration_seconds": 300, "reason": "billing", "satisfaction": 5}}
    visit = {"event_id": str(uuid.uuid4()), "channel": "web", "type": "page_view",
             "occurred_at": "2026-11-20T10:15:00Z",
             "identifiers": {"phone": f"+1 415-555-{line}", "anonymous_id": f"web-{run}"},
             "properties": {"url": "https://shop.example.com/pricing"}}
    async with httpx.AsyncClient(timeout=10) as client:
        for event in (call, visit):
            reply = await client.post(f"{platform['touchpoint']}/v1/touchpoints", json=event,
                                      headers=auth)
            assert reply.status_code == 202, reply.text

        view = platform["customer_view"]
        lookups = [("email", f"ada.lovelace.{run}@example.com"), ("phone", f"415 555 {line}"),
                   ("phone", f"+1415555{line}"), ("anonymous_id", f"web-{run}")]

        async def both_channels_visible() -> bool:
            reply = await client.get(f"{view}/v1/customers/lookup", headers=auth,
                                     params={"type": "email",
                                             "value": f"ADA.lovelace.{run}@example.com"})
            return reply.status_code == 200 and set(reply.json()["channels"]) == {
                "call_center", "web"}

        await eventually(both_channels_visible, within=60)
        records = [await client.get(f"{view}/v1/customers/lookup", headers=auth,
                                    params={"type": t, "value": v}) for t, v in lookups]
        ids = {r.json()["customer_id"] for r in records}
        assert len(ids) == 1, [r.json() for r in records]
        customer = ids.pop()
        timeline = await client.get(f"{view}/v1/customers/{customer}/timeline", headers=auth)

    assert timeline.status_code == 200, timeline.text
    items = timeline.json()["items"]
    assert [i["channel"] for i in items] == ["web", "call_center"], "newest first"
    record = records[0].json()
    assert record["identifiers"]["email"][0]["value"] == f"ada.lovelace.{run}@example.com"
    assert record["traits"]["first_name"]["value"] == "Ada"
