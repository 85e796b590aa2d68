"""A view rebuilt from history equals the live one built under load, record for record."""

import asyncio
import random

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from view_world import attributed, merged, publish, visit

from crm_customer_view.app import rebuild_worker
from crm_customer_view.app.rebuild import Comparison, compare, rebuild, replace_live
from crm_customer_view.settings import CustomerViewSettings
from crm_devstack.testing import eventually
from crm_eventstore import create_engine
from crm_messaging import KeyVault

pytestmark = pytest.mark.slow

CUSTOMERS = 30


async def test_a_rebuilt_view_equals_the_live_one_record_for_record(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    vault: KeyVault,
) -> None:
    rng = random.Random(5)
    sent = 0
    for n in range(CUSTOMERS):
        customer = f"cust-{n}"
        messages = [m for minute in rng.sample(range(60), 3)
                    for m in attributed(customer, visit(f"p{n}@example.com",
                                                        f"+1415555{n:04d}", minute))]
        if n % 5 == 4:  # every fifth customer absorbs the previous one
            messages.append(merged(customer, f"cust-{n - 1}"))
        # Sealed by the customer's key, as the profile service publishes; a third in the
        # clear (published before sealing existed, or by an older producer).
        await publish(producer, settings.profiles_topic, customer, *messages,
                      vault=vault if n % 3 else None)
        sent += len(messages)

    live = create_engine(settings.database_url, settings.db_schema)
    try:
        await eventually(lambda: _count(live, "view_events", sent), within=60)
        result = await rebuild(settings, f"{settings.db_schema}_rb")
        rebuilt = create_engine(settings.database_url, result.schema)
        try:
            outcome = await compare(live, rebuilt)
            # One worker reads every partition; three read one each, so that every merge
            # across partitions is a component that crosses workers.
            alone, apart = [await _rebuilt_and_compared(settings, live, workers)
                            for workers in (1, 3)]
            await replace_live(live, result.schema)
            after_replace = await compare(live, rebuilt)
        finally:
            await rebuilt.dispose()
    finally:
        await live.dispose()

    assert result.events == sent
    assert outcome.identical, outcome
    assert outcome.equal == CUSTOMERS
    assert alone.identical and alone.equal == CUSTOMERS, alone
    assert apart.identical and apart.equal == CUSTOMERS, apart
    assert after_replace.identical


async def _rebuilt_and_compared(settings: CustomerViewSettings, live: AsyncEngine,
                                workers: int) -> Comparison:
    result = await rebuild(settings, f"{settings.db_schema}_rb{workers}", workers)
    rebuilt = create_engine(settings.database_url, result.schema)
    try:
        return await compare(live, rebuilt)
    finally:
        await rebuilt.dispose()


async def _count(engine: object, table: str, expected: int) -> bool:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return bool((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                    >= expected)


async def test_a_worker_that_fails_fails_the_rebuild_with_its_reason(
    producer: AIOKafkaProducer, settings: CustomerViewSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await publish(producer, settings.profiles_topic, "cust-1",
                  *attributed("cust-1", visit("p1@example.com", "+14155550001", 1)))

    def broken_fold(*_: object) -> None:
        raise ValueError("the fold broke")

    # The workers are forked from this process: they fold with this.
    monkeypatch.setattr(rebuild_worker, "record_of", broken_fold)
    with pytest.raises(RuntimeError, match="a rebuild worker failed") as failure:
        await asyncio.wait_for(rebuild(settings, f"{settings.db_schema}_rb"), timeout=60)

    assert "ValueError: the fold broke" in str(failure.value)
