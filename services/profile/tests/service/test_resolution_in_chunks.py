"""The resolver, chunk by chunk against Postgres, ends where resolving everything at once
does (``domain.identity.resolve``): the same clusters, the same shared identifiers, every
touchpoint with its cluster's profile.

The consumer hands the resolver chunks of any size in any order, and the resolver takes
shortcuts inside a chunk (returning customers, touchpoints covered by an earlier one of
the same chunk); these worlds are full of both, and of households sharing a phone.
"""

import random
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_eventstore import EventStore, create_engine
from crm_messaging import InboundMessage, KeyVault
from crm_profile.app.identifiers import evidence_of
from crm_profile.app.resolution import TouchpointResolver
from crm_profile.app.suppression import Suppression
from crm_profile.domain.identity import IdentityRules, resolve
from crm_profile.settings import ProfileSettings

from .profile_world import attributed, inbound, owners, shared, touchpoint

CALL_CENTER = "phone:+18005550000"
RULES = {
    "default rules": IdentityRules(blocked=frozenset({CALL_CENTER})),
    "tight limits": IdentityRules(
        limits={"customer_number": 1, "email": 1, "phone": 1, "anonymous_id": 2},
        blocked=frozenset({CALL_CENTER})),
}


def _world(seed: int) -> list[TouchpointRecorded]:
    """People who sign up with several identifiers and come back with subsets of them
    (or with others of theirs, or the household's landline alone); households share a
    landline; the call center's own number turns up now and then."""
    rng = random.Random(seed)
    people = [[f"customer_number:C{seed}-{k}", f"phone:+1555{seed:02d}{k:03d}",
               *[f"email:p{k}.{j}.{seed}@example.test" for j in range(rng.randint(1, 2))],
               *[f"anonymous_id:w{seed}-{k}-{j}" for j in range(rng.randint(1, 2))]]
              for k in range(rng.randint(3, 6))]
    landlines = [f"phone:+1999{seed:02d}{h}" for h in range(rng.randint(1, 3))]
    for landline in landlines:
        for member in rng.sample(people, rng.randint(2, 3)):
            member.append(landline)
    touchpoints = []
    for own in people:
        signup = rng.sample(own, rng.randint(2, len(own)))
        touchpoints.append(touchpoint(*signup, minute=rng.randint(0, 30)))
        for _ in range(rng.randint(2, 8)):
            seen = signup if rng.random() < 0.6 else own
            visit = rng.sample(seen, rng.randint(1, min(3, len(seen))))
            if rng.random() < 0.1:
                visit = [rng.choice(landlines)]
            if rng.random() < 0.05:
                visit.append(CALL_CENTER)
            touchpoints.append(touchpoint(*visit, minute=rng.randint(0, 60)))
    for tp in touchpoints:  # ids break ties in the canonical order: the same each run
        tp.event_id = str(uuid.UUID(int=rng.getrandbits(128)))
    rng.shuffle(touchpoints)
    return touchpoints


def _chunks(items: list[InboundMessage], rng: random.Random) -> list[list[InboundMessage]]:
    chunks, start = [], 0
    while start < len(items):
        size = rng.choice([1, 3, 8, 25, 60])
        chunks.append(items[start:start + size])
        start += size
    return chunks


async def _resolve_in_chunks(settings: ProfileSettings, rules: IdentityRules,
                             messages: list[InboundMessage], seed: int | None) -> None:
    """Resolve ``messages`` in chunks of random sizes (seeded), or in one (no seed)."""
    engine = create_engine(settings.database_url, settings.db_schema)
    vault_engine = create_engine(settings.vault_database_url, settings.vault_schema,
                                 pool_size=1)
    resolver = TouchpointResolver(rules, Suppression(
        settings.erasure_token_key.get_secret_value().encode(), KeyVault(vault_engine)))
    try:
        chunks = [messages] if seed is None else _chunks(messages, random.Random(seed))
        for chunk in chunks:
            # As the consumer kit does: the follow-up (the exclusive lane) in a second
            # transaction.
            async with EventStore(engine).transaction() as uow:
                follow_up = await resolver(chunk, uow)
            if follow_up is not None:
                async with EventStore(engine).transaction() as uow:
                    await follow_up(uow)
    finally:
        await engine.dispose()
        await vault_engine.dispose()


@pytest.mark.parametrize("rules", RULES)
@pytest.mark.parametrize("seed", range(30))
async def test_resolving_in_chunks_ends_where_resolving_everything_at_once_does(
    settings: ProfileSettings, engine: AsyncEngine, seed: int, rules: str
) -> None:
    touchpoints = _world(seed)
    # Redelivered touchpoints (a consumer restarting) ride along; they change nothing.
    redelivered = random.Random(seed).sample(touchpoints, 3)
    messages = [inbound(n, tp) for n, tp in enumerate([*touchpoints, *redelivered])]

    await _resolve_in_chunks(settings, RULES[rules], messages, seed)

    await _assert_resolved_as_at_once(engine, touchpoints, RULES[rules])


async def _assert_resolved_as_at_once(engine: AsyncEngine, touchpoints: list[TouchpointRecorded],
                                      rules: IdentityRules) -> None:
    expected = resolve([evidence_of(tp) for tp in touchpoints], rules)
    owned = await owners(engine)
    clusters: dict[str, set[str]] = {}
    for identifier, customer in owned.items():
        clusters.setdefault(customer, set()).add(identifier)
    assert {frozenset(c) for c in clusters.values()} == set(expected.clusters)
    assert await shared(engine) == set(expected.shared)
    by_touchpoint = await attributed(engine)
    profile_of_cluster = {n: owned[next(iter(c))] for n, c in enumerate(expected.clusters)}
    assert {tp: profile_of_cluster[n] for tp, n in expected.attribution.items()} == {
        tp: customer for tp, customer in by_touchpoint.items() if tp in expected.attribution}


async def test_a_chunk_written_in_several_statements_keeps_every_stream_in_order(
    settings: ProfileSettings, engine: AsyncEngine
) -> None:
    # One chunk of a few hundred touchpoints: its events go to the store in several
    # append statements, sent while the next ones are built (app.resolution._write). A
    # person's later touchpoints fall in later statements than their profile's creation.
    touchpoints = [tp for seed in range(100, 124) for tp in _world(seed)]
    messages = [inbound(n, tp) for n, tp in enumerate(touchpoints)]

    await _resolve_in_chunks(settings, RULES["default rules"], messages, seed=None)

    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT stream_id, stream_version, event_type FROM events"
            " WHERE stream_id LIKE 'profile-%' ORDER BY global_position"))).all()
    assert len(rows) > 1_000, "more events than two append statements take"
    streams: dict[str, list[tuple[int, str]]] = {}
    for stream, version, event_type in rows:
        streams.setdefault(stream, []).append((version, event_type))
    for events in streams.values():
        assert [v for v, _ in events] == list(range(1, len(events) + 1))
        assert events[0][1] == "crm.profiles.v1.ProfileCreated"
    await _assert_resolved_as_at_once(engine, touchpoints, RULES["default rules"])


def test_the_worlds_hold_what_the_shortcuts_are_for() -> None:
    """Guards the generator: most touchpoints are covered by an earlier one's identifiers,
    and some worlds have a shared phone."""
    covered = total = 0
    households = 0
    for seed in range(8):
        touchpoints = _world(seed)
        sets = [frozenset(f"{i.type}:{i.value}" for i in tp.identifiers) for tp in touchpoints]
        covered += sum(any(s <= t for t in sets[:n]) for n, s in enumerate(sets))
        total += len(sets)
        households += any(i.value.startswith("+1999") for tp in touchpoints
                          for i in tp.identifiers)
    assert covered / total > 0.4
    assert households >= 4
