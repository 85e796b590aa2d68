"""The idempotency ledger: which event ids were accepted, with which content."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["claim_ids", "stored_hashes"]

_CLAIM = text("""
INSERT INTO touchpoint_ids (event_id, content_hash)
SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:hashes AS bytea[]))
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
""")

_HASHES = text("""
SELECT event_id, content_hash FROM touchpoint_ids
WHERE event_id = ANY(CAST(:ids AS uuid[]))
""")


async def claim_ids(
    connection: AsyncConnection, ids: Sequence[str], hashes: Sequence[bytes]
) -> set[str]:
    """Record ids not seen before (first occurrence wins); return the ones recorded now.

    A concurrent transaction claiming the same id makes this wait for it; if it
    commits, the id is not ours.
    """
    rows = await connection.execute(_CLAIM, {"ids": list(ids), "hashes": list(hashes)})
    return {str(row[0]) for row in rows}


async def stored_hashes(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, bytes]:
    """The content hash recorded for each of ``ids`` that is known."""
    if not ids:
        return {}
    rows = await connection.execute(_HASHES, {"ids": list(ids)})
    return {str(event_id): bytes(content_hash) for event_id, content_hash in rows}
