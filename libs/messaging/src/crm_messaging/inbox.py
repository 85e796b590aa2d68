"""The consumer inbox: which event ids a consumer group has already applied."""

from __future__ import annotations

from collections.abc import Sequence

from crm_eventstore import MigrationSet, UnitOfWork, driver_connection

__all__ = ["INBOX_MIGRATIONS", "claim"]

INBOX_MIGRATIONS = MigrationSet("messaging.inbox", "crm_messaging")

_CLAIM = """
INSERT INTO inbox (consumer_group, event_id)
SELECT $1, e FROM unnest(CAST($2 AS text[])) AS e
ON CONFLICT DO NOTHING
RETURNING event_id
"""


async def claim(uow: UnitOfWork, group: str, event_ids: Sequence[str]) -> set[str]:
    """Record ``event_ids`` as processed by ``group``; return those not processed before.

    Runs in the caller's transaction, so the claim commits or rolls back with the
    state change. A concurrent claim of the same id waits for the first to finish.
    """
    driver = await driver_connection(uow.connection)
    return {row[0] for row in await driver.fetch(_CLAIM, group, list(event_ids))}
