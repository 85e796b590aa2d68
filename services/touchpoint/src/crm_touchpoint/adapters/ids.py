"""The idempotency ledger: which event ids were accepted, with which content."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["LEDGER", "stored_hashes"]

# The event store claims new ids here as it appends their events (EventStore.append_once).
LEDGER = "touchpoint_ids"

_HASHES = text("""
SELECT event_id, content_hash FROM touchpoint_ids
WHERE event_id = ANY(CAST(:ids AS uuid[]))
""")


async def stored_hashes(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, bytes]:
    """The content hash recorded for each of ``ids`` that is known."""
    if not ids:
        return {}
    rows = await connection.execute(_HASHES, {"ids": list(ids)})
    return {str(event_id): bytes(content_hash) for event_id, content_hash in rows}
