"""Erasure in the profile service's own tables: receipts, the suppression list, and the
identity state scrubbed of an erased person's identifiers and touchpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_profile.adapters.packing import IDS, packed
from crm_profile.domain.erasure import Erased

__all__ = ["ACTIVE_SUPPRESSIONS", "ErasureStore", "Receipt"]

_TOUCHPOINTS_OF = text("""SELECT touchpoint_id FROM identity_attribution
                          WHERE customer_id = ANY(CAST(:ids AS text[]))""")
_RECEIPT_COLUMNS = """receipt_id, customer_id, erased_ids, requested_by, erased_at, identifiers,
    touchpoints, events_redacted, rows_scrubbed,
    (SELECT coalesce(sum(dropped), 0) FROM identity_suppressed s
     WHERE s.receipt_id = r.receipt_id) AS dropped"""
_RECEIPT_OF = text(f"""SELECT {_RECEIPT_COLUMNS} FROM erasure_receipts r
                       WHERE CAST(:id AS text) = ANY(erased_ids) LIMIT 1""")
_RECEIPT = text(f"SELECT {_RECEIPT_COLUMNS} FROM erasure_receipts r WHERE receipt_id = :id")
_SAVE_RECEIPT = text("""
INSERT INTO erasure_receipts (receipt_id, customer_id, erased_ids, requested_by, identifiers,
                              touchpoints, events_redacted, rows_scrubbed)
VALUES (:receipt_id, :customer_id, CAST(:erased_ids AS text[]), :requested_by, :identifiers,
        :touchpoints, :events_redacted, :rows_scrubbed)
""")
_SUPPRESS = text("""
INSERT INTO identity_suppressed (token, receipt_id)
SELECT unnest(CAST(:tokens AS text[])), :receipt_id
ON CONFLICT (token) DO UPDATE SET receipt_id = EXCLUDED.receipt_id,
    suppressed_at = clock_timestamp(), lifted_at = NULL
""")
# The suppressions in force among some tokens ({tokens}: an expression of type text[]).
ACTIVE_SUPPRESSIONS = """SELECT token, receipt_id FROM identity_suppressed
                         WHERE token = ANY({tokens}) AND lifted_at IS NULL"""
_DROPPED = text("""
UPDATE identity_suppressed SET dropped = dropped + d.n, last_dropped_at = clock_timestamp()
FROM (SELECT t, count(*) AS n FROM unnest(CAST(:tokens AS text[])) AS t GROUP BY t) AS d
WHERE token = d.t
""")
_LIFT = text("""UPDATE identity_suppressed SET lifted_at = clock_timestamp()
                WHERE token = ANY(CAST(:tokens AS text[])) AND lifted_at IS NULL""")
_EVIDENCE = text("""
SELECT touchpoint_id, identifiers, touchpoint FROM identity_evidence
WHERE touchpoint_id = ANY(CAST(:tps AS text[])) OR identifiers && CAST(:ids AS text[])
""")
_SAVE_EVIDENCE = text(f"""
UPDATE identity_evidence e SET identifiers = {IDS.format("r.ids")}, touchpoint = r.tp
FROM unnest(CAST(:tps AS text[]), CAST(:idss AS text[]), CAST(:payloads AS bytea[]))
     AS r(id, ids, tp)
WHERE e.touchpoint_id = r.id
""")
_PROFILES = text("""SELECT customer_id, identifiers FROM identity_profiles
                    WHERE identifiers && CAST(:ids AS text[])""")
_SAVE_PROFILES = text(f"""
UPDATE identity_profiles p SET identifiers = {IDS.format("r.ids")}
FROM unnest(CAST(:cids AS text[]), CAST(:idss AS text[])) AS r(id, ids)
WHERE p.customer_id = r.id
""")
_QUOTING = text("""
SELECT touchpoint_id, customer_ids, reason FROM identity_blocked
WHERE EXISTS (SELECT 1 FROM unnest(CAST(:values AS text[])) v WHERE position(v IN reason) > 0)
""")
_SAVE_REASON = text("""UPDATE identity_blocked SET reason = :new
                       WHERE touchpoint_id = :tp AND customer_ids = CAST(:cids AS text[])
                         AND reason = :old""")


@dataclass(frozen=True)
class Receipt:
    """Proof of an erasure, without personal data."""

    receipt_id: str
    customer_id: str
    erased_ids: tuple[str, ...]
    requested_by: str
    erased_at: datetime | None
    identifiers: int
    touchpoints: int
    events_redacted: int
    rows_scrubbed: int
    dropped_since: int = 0  # touchpoints dropped afterwards for carrying an erased identifier


class ErasureStore:
    """Erasure tables and scrubbing, on the caller's connection (its transaction)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def touchpoints_of(self, customer_ids: Iterable[str]) -> set[str]:
        rows = await self.connection.execute(_TOUCHPOINTS_OF, {"ids": sorted(customer_ids)})
        return {str(row[0]) for row in rows}

    async def receipt_of(self, customer_id: str) -> Receipt | None:
        """The receipt of the erasure that removed ``customer_id``, if there was one."""
        return _receipt((await self.connection.execute(_RECEIPT_OF, {"id": customer_id})).first())

    async def receipt(self, receipt_id: str) -> Receipt | None:
        return _receipt((await self.connection.execute(_RECEIPT, {"id": receipt_id})).first())

    async def save_receipt(self, receipt: Receipt, tokens: Iterable[str]) -> None:
        """Record the receipt and put the erased identifiers' tokens on the suppression list."""
        await self.connection.execute(_SAVE_RECEIPT, {
            "receipt_id": receipt.receipt_id, "customer_id": receipt.customer_id,
            "erased_ids": list(receipt.erased_ids), "requested_by": receipt.requested_by,
            "identifiers": receipt.identifiers, "touchpoints": receipt.touchpoints,
            "events_redacted": receipt.events_redacted, "rows_scrubbed": receipt.rows_scrubbed})
        await self.connection.execute(_SUPPRESS, {"tokens": sorted(tokens),
                                                  "receipt_id": receipt.receipt_id})

    async def count_dropped(self, tokens: list[str]) -> None:
        """Count one dropped touchpoint per occurrence in ``tokens``."""
        if tokens:
            await self.connection.execute(_DROPPED, {"tokens": tokens})

    async def lift(self, tokens: Iterable[str]) -> None:
        """The person came back with fresh consent: stop suppressing ``tokens``."""
        await self.connection.execute(_LIFT, {"tokens": sorted(set(tokens))})

    async def scrub_identity(self, erased: Erased,
                             touchpoint: Callable[[str, bytes], bytes]) -> int:
        """Replace erased identifiers by their tokens in the identity state, and stored
        touchpoints by what ``touchpoint(id, payload)`` makes of them. Returns rows changed."""
        changed = await self._scrub_evidence(erased, touchpoint)
        changed += await self._scrub_profiles(erased)
        return changed + await self._scrub_reasons(erased)

    async def _scrub_evidence(self, erased: Erased,
                              touchpoint: Callable[[str, bytes], bytes]) -> int:
        rows = (await self.connection.execute(_EVIDENCE, {
            "tps": sorted(erased.touchpoints), "ids": sorted(erased.tokens)})).all()
        if rows:
            await self.connection.execute(_SAVE_EVIDENCE, {
                "tps": [r.touchpoint_id for r in rows],
                "idss": [_joined(erased, r.identifiers) for r in rows],
                "payloads": [touchpoint(r.touchpoint_id, bytes(r.touchpoint)) for r in rows]})
        return len(rows)

    async def _scrub_profiles(self, erased: Erased) -> int:
        rows = (await self.connection.execute(_PROFILES, {"ids": sorted(erased.tokens)})).all()
        if rows:
            await self.connection.execute(_SAVE_PROFILES, {
                "cids": [r.customer_id for r in rows],
                "idss": [_joined(erased, r.identifiers) for r in rows]})
        return len(rows)

    async def _scrub_reasons(self, erased: Erased) -> int:
        rows = (await self.connection.execute(_QUOTING, {"values": erased.values()})).all()
        for row in rows:
            await self.connection.execute(_SAVE_REASON, {
                "tp": row.touchpoint_id, "cids": list(row.customer_ids), "old": row.reason,
                "new": erased.text(row.reason)})
        return len(rows)


def _joined(erased: Erased, identifiers: Iterable[str]) -> str:
    return packed(sorted({erased.identifier(i) for i in identifiers}))


def _receipt(row: Any) -> Receipt | None:
    if row is None:
        return None
    return Receipt(row.receipt_id, row.customer_id, tuple(row.erased_ids), row.requested_by,
                   row.erased_at, row.identifiers, row.touchpoints, row.events_redacted,
                   row.rows_scrubbed, int(row.dropped))
