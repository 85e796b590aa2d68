"""Two profile service processes on one consumer group, bridging touchpoints at once:
one profile per true person, no identifier lost."""

import random
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from profile_world import attributed, owners, send, touchpoint
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_devstack.ports import free_port
from crm_devstack.testing import ServiceUnderTest, eventually
from crm_profile.settings import ProfileSettings

pytestmark = pytest.mark.slow

PEOPLE = 40


def person_touchpoints(n: int) -> list:  # type: ignore[type-arg]
    ids = [f"customer_number:C-{n}", f"email:p{n}@example.com", f"phone:+1415555{n:04d}",
           f"anonymous_id:web-{n}"]
    # A chain: each touchpoint bridges the previous identifier to the next one, and is
    # keyed (partitioned) by a different identifier, so instances race on one person.
    return [touchpoint(ids[i], ids[i + 1], minute=i) for i in range(len(ids) - 1)]


async def test_two_instances_resolve_bridging_touchpoints_into_one_profile_per_person(
    producer: AIOKafkaProducer, settings: ProfileSettings, engine: AsyncEngine,
) -> None:
    env = {"DATABASE_URL": settings.database_url, "DB_SCHEMA": settings.db_schema,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "LOG_LEVEL": "WARNING",
           "TOUCHPOINTS_TOPIC": settings.touchpoints_topic,
           "IDENTITY_CONSUMER_GROUP": f"group-{uuid.uuid4().hex[:6]}"}
    instances = [ServiceUnderTest("crm_profile", env, free_port()) for _ in range(2)]
    for instance in instances:
        await instance.start()
    try:
        touchpoints = [tp for n in range(PEOPLE) for tp in person_touchpoints(n)]
        random.Random(7).shuffle(touchpoints)
        await send(producer, settings.touchpoints_topic, *touchpoints)
        await eventually(lambda: _all_attributed(engine, len(touchpoints)), within=90)
    finally:
        for instance in instances:
            instance.stop()

    who = await owners(engine)
    for n in range(PEOPLE):
        mine = {who.get(i) for i in (f"customer_number:C-{n}", f"email:p{n}@example.com",
                                     f"phone:+1415555{n:04d}", f"anonymous_id:web-{n}")}
        assert len(mine) == 1 and None not in mine, f"person {n} resolved as {mine}"
    assert len(set(who.values())) == PEOPLE
    assert len(set((await attributed(engine)).values())) == PEOPLE


async def _all_attributed(engine: AsyncEngine, count: int) -> bool:
    return len(await attributed(engine)) >= count
