"""The two lanes of identity resolution: returning customers' touchpoints are attributed
under the shared lock, side by side with other consumers doing the same; everything
else waits for the exclusive lock, in a follow-up transaction."""

from collections.abc import AsyncIterator

import pytest
from asyncpg.exceptions import LockNotAvailableError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_eventstore import EventStore, UnitOfWork, create_engine
from crm_messaging import InboundMessage, KeyVault
from crm_profile.app.resolution import TouchpointResolver
from crm_profile.app.suppression import Suppression
from crm_profile.domain.identity import IdentityRules
from crm_profile.settings import ProfileSettings

from .profile_world import attributed, inbound, touchpoint


@pytest.fixture
async def suppression(settings: ProfileSettings) -> AsyncIterator[Suppression]:
    vault_engine = create_engine(settings.vault_database_url, settings.vault_schema,
                                 pool_size=1)
    yield Suppression(settings.erasure_token_key.get_secret_value().encode(),
                      KeyVault(vault_engine))
    await vault_engine.dispose()


@pytest.fixture
def resolver(suppression: Suppression) -> TouchpointResolver:
    return TouchpointResolver(IdentityRules(), suppression)


async def _resolve(resolver: TouchpointResolver, engine: AsyncEngine,
                   *touchpoints: TouchpointRecorded) -> None:
    """Both lanes, as the consumer kit runs them."""
    messages = [inbound(n, tp) for n, tp in enumerate(touchpoints)]
    async with EventStore(engine).transaction() as uow:
        follow_up = await resolver(messages, uow)
    if follow_up is not None:
        async with EventStore(engine).transaction() as uow:
            await follow_up(uow)


async def _impatient(uow: UnitOfWork) -> None:
    await uow.connection.execute(text("SET LOCAL lock_timeout = '2s'"))


def _messages(*touchpoints: TouchpointRecorded) -> list[InboundMessage]:
    return [inbound(n, tp) for n, tp in enumerate(touchpoints)]


async def test_returning_customers_are_attributed_while_another_fast_lane_is_open(
    resolver: TouchpointResolver, suppression: Suppression, engine: AsyncEngine
) -> None:
    ann = touchpoint("customer_number:A1", "email:ann@example.test", "anonymous_id:ann-web")
    bob = touchpoint("customer_number:B1", "email:bob@example.test", "anonymous_id:bob-web")
    await _resolve(resolver, engine, ann, bob)
    ann_again = touchpoint("anonymous_id:ann-web", minute=5)
    bob_again = touchpoint("email:bob@example.test", "anonymous_id:bob-web", minute=5)
    newcomer = touchpoint("email:cy@example.test", minute=5)

    # Three consumers (each its resolver), starting with the fast lane, as they do.
    consumers = [TouchpointResolver(IdentityRules(), suppression) for _ in range(3)]
    store = EventStore(engine)
    async with store.transaction() as first:
        assert await consumers[0](_messages(ann_again), first) is None  # returning: done
        # Held open: another consumer's returning customer goes through at once...
        async with store.transaction() as second:
            await _impatient(second)
            assert await consumers[1](_messages(bob_again), second) is None
        # ...but what needs the exclusive lock waits for the shared holder.
        with pytest.raises(LockNotAvailableError):
            async with store.transaction() as third:
                await _impatient(third)
                follow_up = await consumers[2](_messages(newcomer), third)
                assert follow_up is not None
                await follow_up(third)

    owner = await attributed(engine)
    assert owner[ann_again.event_id] == owner[ann.event_id]
    assert owner[bob_again.event_id] == owner[bob.event_id]
    assert newcomer.event_id not in owner


async def test_a_chunk_of_both_kinds_resolves_in_two_transactions(
    resolver: TouchpointResolver, suppression: Suppression, engine: AsyncEngine
) -> None:
    ann = touchpoint("customer_number:A1", "email:ann@example.test")
    await _resolve(resolver, engine, ann)
    ann_again = touchpoint("email:ann@example.test", minute=5)
    ann_on_the_phone = touchpoint("customer_number:A1", "phone:+15550100", minute=6)

    another_consumer = TouchpointResolver(IdentityRules(), suppression)  # fast lane first
    async with EventStore(engine).transaction() as uow:
        follow_up = await another_consumer(_messages(ann_again, ann_on_the_phone), uow)
    assert set(await attributed(engine)) == {ann.event_id, ann_again.event_id}
    assert follow_up is not None
    async with EventStore(engine).transaction() as uow:
        await follow_up(uow)

    owner = await attributed(engine)
    assert owner[ann_on_the_phone.event_id] == owner[ann.event_id]


async def test_mostly_new_people_go_to_the_exclusive_lane_at_once(
    resolver: TouchpointResolver, engine: AsyncEngine
) -> None:
    """Trying the fast lane first would read the state twice for nothing."""
    await _resolve(resolver, engine, *(touchpoint(f"email:p{n}@example.test") for n in range(4)))
    assert not resolver.lanes.fast_first()

    async with EventStore(engine).transaction() as uow:
        assert await resolver(_messages(touchpoint("email:p9@example.test")), uow) is None
    assert len(await attributed(engine)) == 5
    # Returning customers again: the next chunk tries the fast lane first.
    await _resolve(resolver, engine, *(touchpoint(f"email:p{n}@example.test", minute=5)
                                      for n in range(4)))
    assert resolver.lanes.fast_first()
