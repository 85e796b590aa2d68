"""The customer view's read API: records by id or identifier, masking, timeline, merges."""

import uuid

import httpx
from aiokafka import AIOKafkaProducer
from view_world import attributed, merged, observed, publish, visit

from crm.profiles.v1 import profiles_pb2 as profiles
from crm_customer_view.settings import CustomerViewSettings
from crm_devstack.testing import eventually


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_key_without_the_pii_scope_sees_names_emails_and_phones_masked(
    client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    await publish(
        producer,
        settings.profiles_topic,
        "c-1",
        *attributed("c-1", visit("ada@example.com", "+14155552671", 0, "Ada")),
    )

    async def ready() -> bool:
        return (await client.get("/v1/customers/c-1", headers=auth(keys["pii"]))).status_code == 200

    await eventually(ready)
    full = (await client.get("/v1/customers/c-1", headers=auth(keys["pii"]))).json()
    masked = (await client.get("/v1/customers/c-1", headers=auth(keys["agent"]))).json()
    by_phone = await client.get(
        "/v1/customers/lookup",
        headers=auth(keys["agent"]),
        params={"type": "phone", "value": "(415) 555-2671"},
    )

    assert full["identifiers"]["email"][0]["value"] == "ada@example.com"
    assert full["traits"]["first_name"]["value"] == "Ada"
    serialized = str(masked)
    assert "ada@example.com" not in serialized and "+14155552671" not in serialized
    assert (
        "Ada" not in serialized.replace("'Ada'", "")
        or masked["traits"]["first_name"]["value"] != "Ada"
    )
    assert by_phone.status_code == 200
    assert by_phone.json()["customer_id"] == "c-1"


async def test_the_timeline_is_newest_first_and_paginated_by_cursor(
    client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    touchpoints = [visit("lin@example.com", "+14155550001", minute) for minute in (5, 1, 9)]
    await publish(
        producer,
        settings.profiles_topic,
        "c-2",
        *(m for tp in touchpoints for m in attributed("c-2", tp)),
    )

    async def three_visits() -> bool:
        reply = await client.get("/v1/customers/c-2", headers=auth(keys["pii"]))
        return reply.status_code == 200 and reply.json()["channels"]["web"]["interactions"] == 3

    await eventually(three_visits)
    first = (
        await client.get(
            "/v1/customers/c-2/timeline", headers=auth(keys["pii"]), params={"limit": 2}
        )
    ).json()
    second = (
        await client.get(
            "/v1/customers/c-2/timeline",
            headers=auth(keys["pii"]),
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    bad = await client.get(
        "/v1/customers/c-2/timeline", headers=auth(keys["pii"]), params={"cursor": "garbage"}
    )

    order = [i["event_id"] for i in first["items"] + second["items"]]
    assert order == [touchpoints[2].event_id, touchpoints[0].event_id, touchpoints[1].event_id]
    assert second["next_cursor"] is None
    assert bad.status_code == 422


async def test_a_merged_away_id_answers_with_the_survivor_and_both_histories(
    client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    topic = settings.profiles_topic
    await publish(
        producer, topic, "away", *attributed("away", visit("b@example.com", "+14155550002", 1))
    )
    await publish(
        producer,
        topic,
        "keep",
        *attributed("keep", visit("k@example.com", "+14155550003", 2)),
        merged("keep", "away"),
    )

    async def redirected() -> bool:
        reply = await client.get("/v1/customers/away", headers=auth(keys["pii"]))
        return reply.status_code == 200 and reply.json().get("merged_into") == "keep"

    await eventually(redirected)
    record = (await client.get("/v1/customers/away", headers=auth(keys["pii"]))).json()
    missing = await client.get("/v1/customers/nobody", headers=auth(keys["pii"]))

    assert record["customer_id"] == "keep"
    assert record["channels"]["web"]["interactions"] == 2
    assert "away" in record["merged_ids"]
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_after_a_split_each_record_shows_only_what_its_own_touchpoints_said(
    client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    topic, ada_id, grace_id = settings.profiles_topic, str(uuid.uuid4()), str(uuid.uuid4())
    ada = visit("ada@example.com", "+14155550010", 1, "Ada")
    grace = visit("grace@example.com", "+14155550011", 2, "Grace")
    for touchpoint in (ada, grace):
        await publish(producer, topic, ada_id, *attributed(ada_id, touchpoint))
        await publish(producer, topic, ada_id, *observed(ada_id, touchpoint),
                      causation_id=touchpoint.event_id)

    async def first_name(customer_id: str, expected: str) -> bool:
        reply = await client.get(f"/v1/customers/{customer_id}", headers=auth(keys["pii"]))
        traits = reply.json().get("traits", {}) if reply.status_code == 200 else {}
        return bool(traits.get("first_name", {}).get("value") == expected)

    await eventually(lambda: first_name(ada_id, "Grace"))  # the later visit won
    # The split: Grace's touchpoint and identifiers move to a new profile, which the
    # profile service tells what the touchpoint said again.
    await publish(producer, topic, ada_id, profiles.ProfileSplit(
        customer_id=ada_id, new_customer_id=grace_id, reason="two people"), *(
        profiles.IdentifierUnlinked(customer_id=ada_id, identifier=i)
        for i in grace.identifiers))
    await publish(producer, topic, grace_id, *attributed(grace_id, grace))
    await publish(producer, topic, grace_id, *observed(grace_id, grace),
                  causation_id=grace.event_id)

    await eventually(lambda: first_name(grace_id, "Grace"))
    await eventually(lambda: first_name(ada_id, "Ada"))
    record = (await client.get(f"/v1/customers/{ada_id}", headers=auth(keys["pii"]))).json()
    assert record["traits"]["first_name"]["event_id"] == ada.event_id
    assert record["channels"]["web"]["interactions"] == 1
