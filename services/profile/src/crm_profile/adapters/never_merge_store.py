"""Never-merge facts in Postgres: recorded by splits, obeyed by resolution, shown by the
explanation of a profile (table ``identity_never_merge``, migration 0003)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_profile.domain.erasure import Erased
from crm_profile.domain.identity import Evidence, IdentityRules, NeverMerge

__all__ = ["NeverMergeStore", "RecordedSplit"]

_COLUMNS = "split_id, customer_id, new_customer_id, moved, kept, reason, requested_by, split_at"
_RECORD = text("""
INSERT INTO identity_never_merge (split_id, customer_id, new_customer_id, moved, kept, reason,
                                  requested_by)
VALUES (:split_id, :customer_id, :new_customer_id, CAST(:moved AS text[]),
        CAST(:kept AS text[]), :reason, :requested_by)
""")
# One identifier at a time (as in adapters.identity_store): resolution asks about every
# identifier of a chunk, thousands, and ``moved && :ids`` checks each fact found against
# all of them. Until a first split, there is no fact to find: the EXISTS, checked once
# before the probes, skips them (two index probes an identifier, ~1.5 ms a chunk of
# 2,600 identifiers, to 0.02 ms).
_TOUCHING = text(f"""
SELECT {_COLUMNS} FROM identity_never_merge WHERE split_id IN (
    SELECT n.split_id FROM unnest(CAST(:ids AS text[])) AS i(identifier)
    CROSS JOIN LATERAL (
        SELECT split_id FROM identity_never_merge
        WHERE moved @> ARRAY[i.identifier] OR kept @> ARRAY[i.identifier] OFFSET 0) AS n
    WHERE EXISTS (SELECT FROM identity_never_merge))
ORDER BY split_at, split_id
""")
_OF_CUSTOMERS = text(f"""
SELECT {_COLUMNS} FROM identity_never_merge
WHERE customer_id = ANY(CAST(:ids AS text[])) OR new_customer_id = ANY(CAST(:ids AS text[]))
ORDER BY split_at, split_id
""")
_SCRUB = text("""
UPDATE identity_never_merge SET moved = CAST(:moved AS text[]), kept = CAST(:kept AS text[]),
                                reason = :reason
WHERE split_id = :split_id
""")


@dataclass(frozen=True)
class RecordedSplit:
    """A never-merge fact and the split that recorded it (``split_id``: its event id)."""

    split_id: str
    customer_id: str
    new_customer_id: str
    fact: NeverMerge  # left: the identifiers moved to new_customer_id; right: those kept
    requested_by: str
    split_at: datetime | None = None  # set by the database


class NeverMergeStore:
    """Never-merge facts on the caller's connection (its transaction)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def record(self, split: RecordedSplit) -> None:
        """Record the fact of a split."""
        await self.connection.execute(_RECORD, {
            "split_id": split.split_id, "customer_id": split.customer_id,
            "new_customer_id": split.new_customer_id, "moved": sorted(split.fact.left),
            "kept": sorted(split.fact.right), "reason": split.fact.reason,
            "requested_by": split.requested_by})

    async def touching(self, identifiers: Iterable[str]) -> list[RecordedSplit]:
        """The facts with an identifier of ``identifiers`` on either side, oldest first."""
        ids = sorted(set(identifiers))
        if not ids:
            return []
        return [_split(row) for row in await self.connection.execute(_TOUCHING, {"ids": ids})]

    async def of_customers(self, customer_ids: Iterable[str]) -> list[RecordedSplit]:
        """The splits that split one of ``customer_ids`` or created it, oldest first."""
        rows = await self.connection.execute(_OF_CUSTOMERS, {"ids": sorted(set(customer_ids))})
        return [_split(row) for row in rows]

    async def rules_for(self, rules: IdentityRules, evidence: Iterable[Evidence]) -> IdentityRules:
        """``rules`` with the recorded facts that touch ``evidence``. Facts about other
        identifiers are left out: they cannot refuse a union of this evidence."""
        identifiers = {i for item in evidence for i in item.identifiers}
        facts = tuple(split.fact for split in await self.touching(identifiers))
        return replace(rules, never_merge=(*rules.never_merge, *facts)) if facts else rules

    async def scrub(self, erased: Erased) -> int:
        """Erased identifiers become their tokens in the facts (which keep their shape: the
        evidence holds the same tokens), and reasons stop quoting them. Returns rows changed."""
        rows = await self.touching(erased.tokens)
        rows += [r for r in await self.of_customers(erased.customers) if r not in rows]
        for row in rows:
            await self.connection.execute(_SCRUB, {
                "split_id": row.split_id, "reason": erased.text(row.fact.reason),
                "moved": sorted({erased.identifier(i) for i in row.fact.left}),
                "kept": sorted({erased.identifier(i) for i in row.fact.right})})
        return len(rows)


def _split(row: Any) -> RecordedSplit:
    fact = NeverMerge(frozenset(row.moved), frozenset(row.kept), row.reason)
    return RecordedSplit(row.split_id, row.customer_id, row.new_customer_id, fact,
                         row.requested_by, row.split_at)
