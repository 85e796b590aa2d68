"""Through HTTP only, then the databases and the topics searched: after an erasure no
table of any core service holds the person's email, phone, names or free text, and no
message on any topic yields them, even opened with the key vault."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from crm.common.v1.envelope_pb2 import Envelope
from crm_contracts import decode_envelope
from crm_devstack.testing import (
    ServiceUnderTest,
    core_pipeline,
    eventually,
    read_topic,
    tables_quoting,
)
from crm_eventstore import create_engine
from crm_messaging import KeyVault, dead_letter_topic
from crm_messaging.topics import CUSTOMER_VIEW, ERASURES, PROFILES, TOUCHPOINTS

pytestmark = pytest.mark.slow

KEY = "crm_e2eErasure_" + "k" * 40
# Values no other test uses: the pipeline reads the session's shared topics from the start,
# so another test's customer holding the same phone would (rightly) keep it in the view.
EMAIL, PHONE, ANONYMOUS = "quintessa.vole@example.com", "+14155550187", "web-qv-301"
PERSONAL = [EMAIL, PHONE, ANONYMOUS, "Quintessa", "Volesworth", "Tromsø", "my parcel for Q. V."]
OTHER = "kept.person@example.com"


@pytest.fixture
async def platform(postgres_url: str,
                   kafka_bootstrap: str) -> AsyncIterator[dict[str, ServiceUnderTest]]:
    async with core_pipeline(postgres_url, kafka_bootstrap, KEY) as services:
        yield services


def _event(channel: str, kind: str, identifiers: dict[str, str],
           **rest: object) -> dict[str, object]:
    return {"event_id": str(uuid.uuid4()), "channel": channel, "type": kind,
            "occurred_at": "2026-11-20T09:30:00+01:00", "identifiers": identifiers, **rest}


TOPICS = [t.name for t in (TOUCHPOINTS, PROFILES, CUSTOMER_VIEW, ERASURES)]


async def readable_on_topics(bootstrap: str, vault: KeyVault,
                             needles: list[str]) -> set[str]:
    """Which of ``needles`` any message of the core topics (and their dead-letter topics)
    yields: in its raw bytes, key included, or in its payload opened with the key vault."""
    found: set[str] = set()
    for topic in [*TOPICS, *map(dead_letter_topic, TOPICS)]:
        records = await read_topic(bootstrap, topic, timeout=1)
        opened = await vault.open([decode_envelope(r.value) for r in records])
        for record, envelope in zip(records, opened, strict=True):
            payload = envelope.payload if isinstance(envelope, Envelope) else b""
            seen = (record.key or b"") + record.value + payload
            found |= {n for n in needles if n.encode() in seen}
    return found


async def test_an_erased_person_is_found_in_no_table_of_any_service_nor_on_any_topic(
    platform: dict[str, ServiceUnderTest], postgres_url: str, kafka_bootstrap: str,
    vault: KeyVault,
) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    events = [
        _event("call_center", "call", {"phone": "(415) 555-0187", "email": EMAIL.upper()},
               traits={"first_name": "Quintessa", "last_name": "Volesworth", "city": "Tromsø"},
               properties={"duration_seconds": 120, "reason": "delivery"}),
        _event("web", "survey_response", {"email": EMAIL, "anonymous_id": ANONYMOUS},
               properties={"nps": 9, "comment": "my parcel for Q. V."}),
        _event("web", "page_view", {"email": OTHER}, properties={"url": "https://x.example/"}),
    ]
    view, profile = platform["customer_view"].url, platform["profile"].url
    async with httpx.AsyncClient(timeout=10) as client:
        for event in events:
            reply = await client.post(f"{platform['touchpoint'].url}/v1/touchpoints",
                                      json=event, headers=auth)
            assert reply.status_code == 202, reply.text

        async def both_visible() -> bool:
            reply = await client.get(f"{view}/v1/customers/lookup", headers=auth,
                                     params={"type": "email", "value": EMAIL})
            return reply.status_code == 200 and reply.json()["channels"].keys() == {
                "call_center", "web"}

        await eventually(both_visible, within=60)
        # Sealed, but readable with the keys: the search below would find the person.
        assert await readable_on_topics(kafka_bootstrap, vault, [EMAIL, OTHER]) == {
            EMAIL, OTHER}
        assert not [r for t in TOPICS for r in await read_topic(kafka_bootstrap, t, timeout=1)
                    if EMAIL.encode() in r.value or PHONE.encode() in r.value], "sealed"
        customer = (await client.get(f"{view}/v1/customers/lookup", headers=auth,
                                     params={"type": "email", "value": EMAIL})).json()
        erased = await client.post(f"{profile}/v1/profiles/{customer['customer_id']}/erase",
                                   headers=auth)
        assert erased.status_code == 202, erased.text

        async def gone_from_the_view() -> bool:
            reply = await client.get(f"{view}/v1/customers/lookup", headers=auth,
                                     params={"type": "email", "value": EMAIL})
            return reply.status_code == 404

        await eventually(gone_from_the_view, within=60)
        record = (await client.get(f"{view}/v1/customers/{customer['customer_id']}",
                                   headers=auth))
        assert record.status_code in (200, 410), record.text
        assert not any(value in record.text for value in PERSONAL)

    engines = {name: create_engine(postgres_url, service.env["DB_SCHEMA"])
               for name, service in platform.items()}
    try:
        async def nowhere() -> bool:
            found = {name: await tables_quoting(engine, platform[name].env["DB_SCHEMA"],
                                                PERSONAL) for name, engine in engines.items()}
            return not any(found.values())

        await eventually(nowhere, within=60)
        kept = await tables_quoting(engines["customer_view"],
                                    platform["customer_view"].env["DB_SCHEMA"], [OTHER])
        assert kept, "the search finds what is still there"
        assert await readable_on_topics(kafka_bootstrap, vault, [*PERSONAL, OTHER]) == {OTHER}
    finally:
        for engine in engines.values():
            await engine.dispose()
