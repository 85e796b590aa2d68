"""Erasure in the service: after ProfileErased no table of the view holds the person's
email, phone, names, other traits or free text (nor, in the changelog it published, their
masks), late events are scrubbed too, the record keeps what is not about the person, and
a rebuild gives the same records and the same absence."""

import itertools
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from view_world import (
    attributed,
    erased,
    merged,
    order,
    pii_in_schema,
    publish,
    survey,
    trait,
    visit,
)

from crm.common.v1.envelope_pb2 import Envelope
from crm_contracts.privacy import customer_key_id
from crm_customer_view.app.rebuild import compare, rebuild, replace_live
from crm_customer_view.domain import (
    CustomerRecord,
    digest,
    facts_from_envelope,
    mask_email,
    mask_phone,
    record_of,
)
from crm_customer_view.settings import CustomerViewSettings
from crm_devstack.testing import eventually
from crm_eventstore import create_engine
from crm_messaging import KeyVault

_PHONES = itertools.count(1)  # valid (NANP) and distinct phone numbers


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Person:
    """Someone with PII nobody else has (fresh values per test)."""

    def __init__(self, n: int) -> None:
        tag = uuid.uuid4().hex[:8]
        self.id = f"cust-{tag}"
        self.email = f"zq{tag}@pii{tag}.example.com"  # its mask is its own too
        self.phone = f"+1415556{next(_PHONES):04d}"
        self.first_name = f"Zqfirst{tag}"
        self.last_name = f"Zqlast{tag}"
        self.city = f"Zqcity{tag}"
        self.comment = f"zqcomment {tag}: my neighbour is loud"
        self.n = n

    @property
    def pii(self) -> list[str]:
        """What must go: values, and the masks the changelog published."""
        return [self.email, self.phone, self.first_name, self.last_name, self.city,
                self.comment, mask_email(self.email), mask_phone(self.phone)]

    def history(self) -> list[Any]:
        """A visit (email, phone, first name), a survey with a comment, an order of
        42.50 EUR, and a back-office last name and city."""
        return [
            *attributed(self.id, visit(self.email, self.phone, self.n, self.first_name)),
            *attributed(self.id, survey(self.email, self.n + 1, self.comment)),
            *attributed(self.id, order(self.email, self.n + 2, "42.50")),
            trait(self.id, "city", self.city),
            trait(self.id, "last_name", self.last_name),
        ]


async def record(client: httpx.AsyncClient, key: str, customer_id: str) -> dict[str, Any]:
    reply = await client.get(f"/v1/customers/{customer_id}", headers=auth(key))
    return reply.json() if reply.status_code == 200 else {}


async def wait_for(client: httpx.AsyncClient, key: str, customer_id: str,
                   check: Any) -> dict[str, Any]:
    async def holds() -> bool:
        return bool(check(await record(client, key, customer_id)))

    await eventually(holds, within=30)
    return await record(client, key, customer_id)


def interactions(body: dict[str, Any]) -> int:
    return sum(c["interactions"] for c in body.get("channels", {}).values())


async def test_an_erasure_leaves_none_of_the_persons_data_in_any_table_of_the_view(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    ada = Person(0)
    topic = settings.profiles_topic
    await publish(producer, topic, ada.id, *ada.history())
    await wait_for(client, keys["pii"], ada.id, lambda r: "last_name" in r.get("traits", {})
                   and interactions(r) == 3)
    before = await pii_in_schema(settings.database_url, settings.db_schema, ada.pii)

    await publish(producer, topic, ada.id, erased(ada.id))
    after_erasure = await wait_for(client, keys["pii"], ada.id, lambda r: r.get("erased"))
    left = await pii_in_schema(settings.database_url, settings.db_schema, ada.pii)
    lookups = [await client.get("/v1/customers/lookup", headers=auth(keys["pii"]),
                                params={"type": kind, "value": value})
               for kind, value in (("email", ada.email), ("phone", ada.phone))]
    timeline = (await client.get(f"/v1/customers/{ada.id}/timeline",
                                 headers=auth(keys["pii"]))).json()

    assert {hit.split(": ", 1)[1] for hit in before} == set(ada.pii)  # the search finds them
    assert left == set()
    assert after_erasure["identifiers"] == {} and after_erasure["traits"] == {}
    assert interactions(after_erasure) == 3
    assert after_erasure["orders"]["lifetime_revenue"] == "42.50"
    assert after_erasure["satisfaction"]["nps"]["latest"] == 9
    assert [r.status_code for r in lookups] == [404, 404]
    assert len(timeline["items"]) == 3, timeline
    assert ada.comment not in str(timeline)


async def test_a_touchpoint_attributed_after_the_erasure_is_stored_without_pii(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    ada = Person(0)
    topic = settings.profiles_topic
    await publish(producer, topic, ada.id, *ada.history(), erased(ada.id))
    await wait_for(client, keys["pii"], ada.id, lambda r: r.get("erased") and
                   interactions(r) == 3)

    late_phone = "+14155550199"
    await publish(producer, topic, ada.id,
                  *attributed(ada.id, visit(ada.email, late_phone, 30, ada.first_name)),
                  *attributed(ada.id, survey(ada.email, 31, ada.comment)))
    body = await wait_for(client, keys["pii"], ada.id, lambda r: interactions(r) == 5)

    assert await pii_in_schema(settings.database_url, settings.db_schema,
                               [*ada.pii, late_phone]) == set()
    assert body["erased"] and body["identifiers"] == {} and body["traits"] == {}


async def test_erasing_a_merged_away_profile_erases_its_data_and_spares_the_survivors(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    keep, away = Person(0), Person(10)
    topic = settings.profiles_topic
    sent = await publish(producer, topic, away.id, *away.history())
    sent += await publish(producer, topic, keep.id, *keep.history(), merged(keep.id, away.id))
    await wait_for(client, keys["pii"], keep.id, lambda r: interactions(r) == 6)

    sent += await publish(producer, topic, away.id, erased(away.id))

    async def scrubbed() -> bool:
        found = await pii_in_schema(settings.database_url, settings.db_schema, away.pii)
        return not found

    await eventually(scrubbed, within=30)
    body = await record(client, keys["pii"], keep.id)
    kept = await pii_in_schema(settings.database_url, settings.db_schema, keep.pii)
    expected = _folded(keep.id, sent, settings)
    stored_digest = await _digest(settings, keep.id)
    by_away_email = await client.get("/v1/customers/lookup", headers=auth(keys["pii"]),
                                     params={"type": "email", "value": away.email})

    assert stored_digest == digest(expected)  # the domain's record, exactly
    assert not body["erased"] and interactions(body) == 6
    assert body["orders"]["lifetime_revenue"] == "85.00"
    assert [i["value"] for i in body["identifiers"]["email"]] == [keep.email]
    assert {hit.split(": ", 1)[1] for hit in kept} == set(keep.pii)
    assert by_away_email.status_code == 404


async def test_erasing_the_survivor_erases_everyone_merged_into_it(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    keep, away = Person(0), Person(10)
    topic = settings.profiles_topic
    await publish(producer, topic, away.id, *away.history())
    await publish(producer, topic, keep.id, *keep.history(), merged(keep.id, away.id),
                  erased(keep.id))

    # The two keys may be consumed in either order: wait for both histories.
    body = await wait_for(client, keys["pii"], away.id,
                          lambda r: r.get("erased") and interactions(r) == 6)

    assert await pii_in_schema(settings.database_url, settings.db_schema,
                               [*keep.pii, *away.pii]) == set()
    assert body["customer_id"] == keep.id and body["merged_into"] == keep.id
    assert interactions(body) == 6


async def test_a_view_rebuilt_after_erasures_equals_the_live_one_and_holds_no_pii(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    people = [Person(n) for n in range(4)]
    topic = settings.profiles_topic
    sent = []
    for person in people:
        sent += await publish(producer, topic, person.id, *person.history())
    sent += await publish(producer, topic, people[1].id, merged(people[1].id, people[0].id))
    for gone in people[1:3]:
        sent += await publish(producer, topic, gone.id, erased(gone.id))
    await eventually(lambda: _consumed(settings, len(sent)), within=60)

    rebuilt_schema = f"{settings.db_schema}_rb"
    result = await rebuild(settings, rebuilt_schema)
    live = create_engine(settings.database_url, settings.db_schema)
    rebuilt = create_engine(settings.database_url, rebuilt_schema)
    try:
        outcome = await compare(live, rebuilt)
        await replace_live(live, rebuilt_schema)
    finally:
        await live.dispose()
        await rebuilt.dispose()
    erased_pii = [p for person in people[:3] for p in person.pii]

    assert outcome.identical, outcome
    assert outcome.equal == len(people)
    assert await pii_in_schema(settings.database_url, rebuilt_schema, erased_pii) == set()
    assert await pii_in_schema(settings.database_url, settings.db_schema, erased_pii) == set()
    assert await pii_in_schema(settings.database_url, settings.db_schema, people[3].pii)
    assert result.events > 0


async def test_a_view_rebuilt_after_sealed_history_was_erased_equals_the_live_one(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    keys: dict[str, str], vault: KeyVault,
) -> None:
    # Sealed by each customer's key, as the profile service publishes. The live view folds
    # the events before the erasure; a rebuild after it cannot open them (the erasure
    # destroyed the keys), so the live view must keep no more of them than a rebuild can.
    people = [Person(n) for n in range(3)]
    topic = settings.profiles_topic
    sent = []
    for person in people:
        sent += await publish(producer, topic, person.id, *person.history(), vault=vault)
    sent += await publish(producer, topic, people[1].id, merged(people[1].id, people[0].id),
                          vault=vault)
    await eventually(lambda: _consumed(settings, len(sent)), within=60)
    await vault.destroy([customer_key_id(person.id) for person in people[:2]])
    await publish(producer, topic, people[1].id, erased(people[1].id))
    await wait_for(client, keys["pii"], people[1].id, lambda r: r.get("erased"))

    rebuilt_schema = f"{settings.db_schema}_rb"
    await rebuild(settings, rebuilt_schema)
    live = create_engine(settings.database_url, settings.db_schema)
    rebuilt = create_engine(settings.database_url, rebuilt_schema)
    try:
        outcome = await compare(live, rebuilt)
    finally:
        await live.dispose()
        await rebuilt.dispose()
    survivor = await record(client, keys["pii"], people[1].id)

    assert outcome.identical, outcome
    # The merged-away id is mentioned only by sealed events (its own, and the merge): no
    # record of it is left on either side.
    assert outcome.equal == len(people) - 1
    assert interactions(survivor) == 0  # nothing of the erased lineage's sealed events
    assert interactions(await record(client, keys["pii"], people[2].id)) > 0


def _folded(customer_id: str, sent: list[Envelope],
            settings: CustomerViewSettings) -> CustomerRecord:
    facts = [fact for envelope in sent for fact in facts_from_envelope(envelope)]
    result = record_of(customer_id, facts, settings.projection_config())
    assert isinstance(result, CustomerRecord)
    return result


async def _consumed(settings: CustomerViewSettings, count: int) -> bool:
    engine = create_engine(settings.database_url, settings.db_schema)
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM view_events"))).scalar_one()
    finally:
        await engine.dispose()
    return int(stored) >= count


async def _digest(settings: CustomerViewSettings, customer_id: str) -> str:
    engine = create_engine(settings.database_url, settings.db_schema)
    try:
        async with engine.connect() as conn:
            return str((await conn.execute(
                text("SELECT digest FROM customer_records WHERE customer_id = :id"),
                {"id": customer_id})).scalar_one())
    finally:
        await engine.dispose()
