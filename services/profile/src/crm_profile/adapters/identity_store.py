"""The identity state in Postgres, read and written one affected component at a time.

Resolution is serialised by a transaction-scoped advisory lock, so concurrent
instances (one consumer group, several processes) never decide on stale state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_eventstore import driver_connection
from crm_profile.adapters.erasure_store import ACTIVE_SUPPRESSIONS
from crm_profile.adapters.packing import IDS, SEP, SETS, packed, packed_sets
from crm_profile.domain.identity import (
    CurrentIdentity,
    Evidence,
    MergeBlocked,
    MergedAway,
    Profile,
)

__all__ = ["FirstLook", "IdentityStore", "KnownEvidence"]

# Every query here reads by key through an index. The identity tables start empty and
# grow fast, faster than autovacuum analyses them: without statistics the planner takes a
# sequential scan for the lookups of a chunk's few hundred identifiers, and asyncpg's
# cached statement keeps that plan; each lookup then reads the whole table (1 -> 60 ms
# over 10,000 touchpoints). Set with the lock: no extra round trip.
_LOCK = """SELECT set_config('enable_seqscan', 'off', true),
                  pg_advisory_xact_lock(hashtext('crm-identity:' || current_schema()))"""
_LOCK_SHARED = """SELECT set_config('enable_seqscan', 'off', true),
                  pg_advisory_xact_lock_shared(hashtext('crm-identity:' || current_schema()))"""
# Lists of ids, identifiers and tokens go as one text each (adapters.packing).
# One profile's stream is appended to by one shared-lock holder at a time; taken in the
# order given (sorted by the caller), so that two holders never wait on each other.
_LOCK_PROFILES = f"""
SELECT pg_advisory_xact_lock(hashtext('crm-identity-profile:' || current_schema() || id))
FROM unnest({IDS.format("$1")}) WITH ORDINALITY AS p(id, n) ORDER BY n
"""
_SHARED = f"""SELECT identifier, customer_ids FROM identity_shared
              WHERE identifier = ANY({IDS.format("$1")})"""
# Arrays are matched one identifier at a time (a lateral probe of the index for each,
# ``@> ARRAY[i]``), not with one ``identifiers && $1``: a chunk asks about a few
# thousand identifiers, and Postgres checks every row the index finds against the whole
# array. Probed one by one, 2,000 identifiers take a third of the time (26 -> 8 ms in
# the bench database). ``OFFSET 0`` keeps each probe a probe: without statistics (the
# tables grow faster than they are analysed) the planner joined the array to a full
# scan of the table instead, seconds long. The touchpoints to leave out ($2, as many)
# go by a hash anti-join, not a scan of that array for each row.
_EVIDENCE = f"""
SELECT DISTINCT ON (e.touchpoint_id) e.touchpoint_id, e.occurred_at, e.identifiers, e.assurance
FROM unnest({IDS.format("$1")}) AS i(identifier)
CROSS JOIN LATERAL (
    SELECT touchpoint_id, occurred_at, identifiers, assurance FROM identity_evidence
    WHERE identifiers @> ARRAY[i.identifier] OFFSET 0) AS e
WHERE NOT EXISTS (SELECT FROM unnest({IDS.format("$2")}) AS k(id) WHERE k.id = e.touchpoint_id)
ORDER BY e.touchpoint_id
"""
# The state around some evidence ($1 its identifiers, $2 its touchpoints), in one round
# trip: rows tagged by what they are, their columns shared. Live profiles are found one
# identifier at a time, as in _EVIDENCE.
_STATE = f"""
WITH RECURSIVE live AS (
    SELECT DISTINCT ON (p.customer_id) p.customer_id, p.created_order, p.identifiers
    FROM unnest({IDS.format("$1")}) AS i(identifier)
    CROSS JOIN LATERAL (
        SELECT customer_id, created_order, identifiers FROM identity_profiles
        WHERE merged_into IS NULL AND identifiers @> ARRAY[i.identifier] OFFSET 0) AS p
    ORDER BY p.customer_id
), away AS (
    SELECT customer_id, created_order, identifiers, merged_into FROM identity_profiles
    WHERE merged_into IN (SELECT customer_id FROM live)
    UNION
    SELECT p.customer_id, p.created_order, p.identifiers, p.merged_into
    FROM identity_profiles p JOIN away ON p.merged_into = away.customer_id
)
SELECT 'live' AS kind, customer_id AS id, created_order, identifiers AS ids, NULL AS other
FROM live
UNION ALL
SELECT 'away', customer_id, created_order, identifiers, merged_into FROM away
UNION ALL
SELECT 'attributed', touchpoint_id, NULL, NULL, customer_id FROM identity_attribution
WHERE touchpoint_id = ANY({IDS.format("$2")})
UNION ALL
SELECT 'shared', identifier, NULL, customer_ids, NULL FROM identity_shared
WHERE identifier = ANY({IDS.format("$1")})
UNION ALL
SELECT 'blocked', touchpoint_id, NULL, customer_ids, reason FROM identity_blocked
WHERE touchpoint_id = ANY({IDS.format("$2")})
"""
_PAYLOADS = f"""SELECT touchpoint_id, touchpoint FROM identity_evidence
                WHERE touchpoint_id = ANY({IDS.format("$1")})"""
# For each set of identifiers, one stored touchpoint carrying all of them (if any).
# A join, not a LATERAL ... LIMIT 1: under a LIMIT the planner prefers a sequential
# scan that stops at the first match, which reads the whole table when there is none.
_COVERING_OF = f"""
SELECT DISTINCT ON (n.ord) n.ord, e.touchpoint_id, e.occurred_at, e.identifiers, e.assurance
FROM unnest({SETS.format("{sets}")}) WITH ORDINALITY AS n(ids, ord)
JOIN identity_evidence e ON e.identifiers @> {IDS.format("n.ids")}
ORDER BY n.ord, e.touchpoint_id
"""
_COVERING = _COVERING_OF.format(sets="$1")
# A chunk's first look, in one round trip instead of three: which of its touchpoints
# were resolved already ($1), which of its identifiers' suppression tokens are in force
# ($2, the suppression list of adapters.erasure_store) and, for each set of identifiers
# ($3), a stored touchpoint carrying them all (as _COVERING). Rows tagged by what they
# are, their columns shared.
_FIRST_LOOK = f"""
SELECT 'seen' AS kind, touchpoint_id AS id, NULL::bigint AS ord, NULL::timestamptz AS at,
       NULL::text[] AS ids, NULL::text AS other
FROM identity_evidence WHERE touchpoint_id = ANY({IDS.format("$1")})
UNION ALL
SELECT 'suppressed', token, NULL, NULL, NULL, receipt_id
FROM ({ACTIVE_SUPPRESSIONS.format(tokens=IDS.format("$2"))}) AS s
UNION ALL
SELECT 'covering', touchpoint_id, ord, occurred_at, identifiers, assurance
FROM ({_COVERING_OF.format(sets="$3")}) AS c
"""
_SAVE_EVIDENCE = f"""
WITH saved AS (
    INSERT INTO identity_evidence (touchpoint_id, occurred_at, identifiers, assurance,
                                   touchpoint)
    SELECT id, at, {IDS.format("ids")}, assurance, payload
    FROM unnest({IDS.format("$1")}, CAST($2 AS timestamptz[]), {SETS.format("$3")},
                CAST($4 AS text[]), CAST($5 AS bytea[]))
         AS e(id, at, ids, assurance, payload)
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM saved
"""
_SAVE_PROFILES = f"""
INSERT INTO identity_profiles (customer_id, created_order, identifiers, merged_into)
SELECT p.customer_id, coalesce(p.created_order, nextval('identity_profile_order')),
       {IDS.format("p.identifiers")}, p.merged_into
FROM unnest({IDS.format("$1")}, CAST($2 AS bigint[]), CAST($3 AS text[]),
            CAST($4 AS text[])) AS p(customer_id, created_order, identifiers, merged_into)
ON CONFLICT (customer_id) DO UPDATE
SET identifiers = EXCLUDED.identifiers, merged_into = EXCLUDED.merged_into
"""
_SAVE_ATTRIBUTION = f"""
INSERT INTO identity_attribution (touchpoint_id, customer_id)
SELECT * FROM unnest({IDS.format("$1")}, {IDS.format("$2")})
ON CONFLICT (touchpoint_id) DO UPDATE SET customer_id = EXCLUDED.customer_id
"""
_DROP_ATTRIBUTION = f"""DELETE FROM identity_attribution
                        WHERE touchpoint_id = ANY({IDS.format("$1")})"""
_SAVE_SHARED = f"""
INSERT INTO identity_shared (identifier, customer_ids)
SELECT i, {IDS.format("c")}
FROM unnest({IDS.format("$1")}, CAST($2 AS text[])) AS s(i, c)
ON CONFLICT (identifier) DO UPDATE SET customer_ids = EXCLUDED.customer_ids
"""
_SAVE_BLOCKED = """
INSERT INTO identity_blocked (touchpoint_id, customer_ids, reason)
VALUES ($1, CAST($2 AS text[]), $3) ON CONFLICT DO NOTHING
"""

@dataclass(frozen=True)
class KnownEvidence:
    """The evidence around new identifiers, the shared identifiers met on the way, and
    the identifiers whose touchpoints were all loaded (``queried``)."""

    evidence: tuple[Evidence, ...]
    shared: frozenset[str]
    queried: frozenset[str]


@dataclass(frozen=True)
class FirstLook:
    """What a chunk needs to know before it resolves anything (:meth:`IdentityStore.first_look`)."""

    seen: frozenset[str]  # its touchpoints resolved already
    suppressed: Mapping[str, str]  # the suppression tokens in force, with their receipts
    covering: Mapping[str, Evidence]  # by touchpoint: a stored one carrying all its identifiers


class IdentityStore:
    """Identity tables on the caller's connection (its transaction)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self._driver: asyncpg.Connection | None = None

    async def lock(self, *, shared: bool = False) -> None:
        """Serialise identity decisions until the transaction ends (and read it by
        index only). First: the other methods read and write under the lock.

        ``shared``: alongside other shared holders, for decisions that read only what
        changes under the exclusive lock (returning customers' attributions); each
        appends to a profile's stream under :meth:`lock_profiles`."""
        # Everything through asyncpg itself, in the same transaction: a chunk sends a
        # dozen small statements, and SQLAlchemy's share of each is larger than the
        # driver's (crm_eventstore.driver).
        self._driver = await driver_connection(self.connection)
        await self._driver.execute(_LOCK_SHARED if shared else _LOCK)

    async def lock_profiles(self, customer_ids: Iterable[str]) -> None:
        """Hold these profiles' streams until the transaction ends (under the shared lock)."""
        await self._fetch(_LOCK_PROFILES, packed(sorted(set(customer_ids))))

    async def _fetch(self, statement: str, *args: object) -> list[asyncpg.Record]:
        if self._driver is None:
            raise RuntimeError("IdentityStore.lock() first: identity is read under the lock")
        return list(await self._driver.fetch(statement, *args))

    async def first_look(self, touchpoint_ids: Iterable[str], tokens: Iterable[str],
                         covered: Sequence[Evidence]) -> FirstLook:
        """Which of ``touchpoint_ids`` were resolved already, which of ``tokens`` are
        suppressed now, and :meth:`covering` of ``covered``: one round trip."""
        rows: dict[str, list[asyncpg.Record]] = defaultdict(list)
        for row in await self._fetch(
                _FIRST_LOOK, packed(touchpoint_ids), packed(sorted(set(tokens))),
                packed_sets(item.identifiers for item in covered)):
            rows[row["kind"]].append(row)
        return FirstLook(
            seen=frozenset(str(row["id"]) for row in rows["seen"]),
            suppressed={str(row["id"]): str(row["other"]) for row in rows["suppressed"]},
            covering={covered[row["ord"] - 1].touchpoint_id: Evidence(
                row["id"], row["at"], frozenset(row["ids"]), row["other"])
                for row in rows["covering"]})

    async def evidence_around(
        self, identifiers: Iterable[str], blocked: frozenset[str]
    ) -> KnownEvidence:
        """Every touchpoint reachable from ``identifiers`` through identifiers that are
        neither shared nor blocked (a superset of what resolution may change)."""
        visited = set(identifiers)
        frontier = set(visited)
        found: dict[str, Evidence] = {}
        shared: set[str] = set()
        queried: set[str] = set()
        while frontier:
            rows = await self._fetch(_SHARED, packed(sorted(frontier)))
            shared |= {str(row[0]) for row in rows}
            follow = sorted(frontier - shared - blocked)
            frontier = set()
            if not follow:
                break
            rows = await self._fetch(_EVIDENCE, packed(follow), packed(found))
            queried.update(follow)
            for row in rows:
                found[row["touchpoint_id"]] = _evidence(row)
                frontier |= set(row["identifiers"]) - visited
            visited |= frontier
        return KnownEvidence(tuple(found.values()), frozenset(shared), frozenset(queried))

    async def evidence_with(
        self, identifiers: Iterable[str], known: Iterable[str]
    ) -> tuple[list[Evidence], frozenset[str]]:
        """Touchpoints carrying any of ``identifiers`` (but not ``known`` ones), and which
        of their identifiers and of ``identifiers`` are shared."""
        ids = sorted(identifiers)
        found = [_evidence(row)
                 for row in await self._fetch(_EVIDENCE, packed(ids), packed(known))]
        carried = sorted(set(ids).union(*(e.identifiers for e in found)))
        shared = await self._fetch(_SHARED, packed(carried))
        return found, frozenset(str(r[0]) for r in shared)

    async def covering(self, evidence: Sequence[Evidence]) -> dict[str, Evidence]:
        """For each of ``evidence`` (by touchpoint id), a stored touchpoint that carried
        all of its identifiers, where there is one."""
        rows = await self._fetch(_COVERING, packed_sets(item.identifiers for item in evidence))
        return {evidence[row["ord"] - 1].touchpoint_id: _evidence(row) for row in rows}

    async def state_for(self, component: Iterable[Evidence]) -> CurrentIdentity:
        """The part of the identity state that ``component`` touches."""
        evidence = list(component)
        identifiers = set().union(*(e.identifiers for e in evidence))
        return await self._state(identifiers, {e.touchpoint_id for e in evidence})

    async def state_with(self, before: CurrentIdentity, read: Iterable[Evidence],
                         more: Iterable[Evidence]) -> CurrentIdentity:
        """:meth:`state_for` of ``read`` and ``more`` together, given ``before`` (that of
        ``read``): only what ``more`` adds is read. Every part of the state is found by
        identifier or by touchpoint, so the parts read apart add up to the whole."""
        read = list(read)
        more = list(more)
        identifiers = set().union(*(e.identifiers for e in more)).difference(
            *(e.identifiers for e in read))
        touchpoints = {e.touchpoint_id for e in more}.difference(e.touchpoint_id for e in read)
        added = await self._state(identifiers, touchpoints)
        return CurrentIdentity(
            profiles={**before.profiles, **added.profiles},
            attribution={**before.attribution, **added.attribution},
            shared={**before.shared, **added.shared},
            merged_away={**before.merged_away, **added.merged_away},
            blocked=before.blocked | added.blocked)

    async def _state(self, identifiers: set[str], touchpoints: set[str]) -> CurrentIdentity:
        rows: dict[str, list[asyncpg.Record]] = defaultdict(list)
        for row in await self._fetch(_STATE, packed(sorted(identifiers)),
                                     packed(sorted(touchpoints))):
            rows[row["kind"]].append(row)
        return CurrentIdentity(
            profiles={row["id"]: _profile_of(row) for row in rows["live"]},
            attribution={row["id"]: row["other"] for row in rows["attributed"]},
            shared={row["id"]: frozenset(row["ids"]) for row in rows["shared"]},
            merged_away={row["id"]: MergedAway(_profile_of(row), row["other"])
                         for row in rows["away"]},
            blocked=frozenset(MergeBlocked(tuple(row["ids"]), row["id"], row["other"])
                              for row in rows["blocked"]),
        )

    async def payloads(self, touchpoint_ids: Iterable[str]) -> dict[str, bytes]:
        """The stored touchpoints (protobuf) of ``touchpoint_ids``."""
        ids = list(touchpoint_ids)
        if not ids:
            return {}
        rows = await self._fetch(_PAYLOADS, packed(ids))
        return {str(tp): bytes(payload) for tp, payload in rows}

    async def save_evidence(self, evidence: Mapping[Evidence, bytes]) -> int:
        """Record resolved evidence with its touchpoint (protobuf); how many were new."""
        items = list(evidence.items())
        rows = await self._fetch(
            _SAVE_EVIDENCE, packed(e.touchpoint_id for e, _ in items),
            [e.occurred_at for e, _ in items], packed_sets(e.identifiers for e, _ in items),
            [e.assurance for e, _ in items], [p for _, p in items])
        return int(rows[0][0])

    async def save(self, before: CurrentIdentity, after: CurrentIdentity) -> None:
        """Write what changed from ``before`` to ``after`` (both restricted the same way)."""
        await self._save_profiles(before, after)
        await self._save_attribution(before.attribution, after.attribution)
        if changed := {i: c for i, c in after.shared.items() if before.shared.get(i) != c}:
            await self._fetch(_SAVE_SHARED, packed(changed),
                              [SEP.join(sorted(c)) for c in changed.values()])
        for block in after.blocked - before.blocked:
            await self._fetch(_SAVE_BLOCKED, block.touchpoint_id, list(block.customer_ids),
                              block.reason)

    async def _save_profiles(self, before: CurrentIdentity, after: CurrentIdentity) -> None:
        known = set(before.profiles) | set(before.merged_away)
        rows: list[tuple[str, int | None, frozenset[str], str | None]] = [
            (cid, p.created_order if cid in known else None, p.identifiers, None)
            for cid, p in after.profiles.items()
            if before.profiles.get(cid) != p]
        rows += [(cid, m.profile.created_order, m.profile.identifiers, m.into)
                 for cid, m in after.merged_away.items() if before.merged_away.get(cid) != m]
        if rows:
            await self._fetch(_SAVE_PROFILES, packed(r[0] for r in rows), [r[1] for r in rows],
                              [SEP.join(sorted(r[2])) for r in rows], [r[3] for r in rows])

    async def _save_attribution(
        self, before: Mapping[str, str], after: Mapping[str, str]
    ) -> None:
        changed = {tp: cid for tp, cid in after.items() if before.get(tp) != cid}
        if changed:
            await self._fetch(_SAVE_ATTRIBUTION, packed(changed), packed(changed.values()))
        if gone := [tp for tp in before if tp not in after]:
            await self._fetch(_DROP_ATTRIBUTION, packed(gone))


def _evidence(row: asyncpg.Record) -> Evidence:
    return Evidence(row["touchpoint_id"], row["occurred_at"], frozenset(row["identifiers"]),
                    row["assurance"])


def _profile_of(row: asyncpg.Record) -> Profile:
    """The profile of a ``_STATE`` row (live or merged away)."""
    return Profile(row["id"], frozenset(row["ids"]), row["created_order"])
