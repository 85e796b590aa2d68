"""The key vault: the data keys that seal personal data on the topics.

It lives in a schema (or database) of its own, shared by the services as Kafka is:
no service reads another's tables, but every consumer must find the keys of what it
reads. A key is issued once, by the producer that first seals with it, and destroyed by
an erasure; a destroyed key leaves a tombstone, so it is never issued again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TypeAlias

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.common.v1.envelope_pb2 import Envelope
from crm_eventstore import MigrationSet, autocommit, driver_connection
from crm_messaging.sealing import BrokenSeal, KeyDestroyed, new_secret, open_envelope

__all__ = ["VAULT_MIGRATIONS", "KeyVault", "Opened"]

# An envelope as the vault leaves it: opened (or clear), or the reason it stays sealed.
Opened: TypeAlias = Envelope | KeyDestroyed | BrokenSeal

VAULT_MIGRATIONS = MigrationSet("vault", "crm_messaging", "vault_migrations")

# Issued by every relay that seals, read by every consumer that opens: through the driver.
# The keys issued now and those issued before, in one round trip: a relay that seals
# with keys another producer issued (the view's, with the profile service's customer
# keys) finds them all here. The read sees what committed before the statement began.
_ISSUE = """
WITH issued AS (
    INSERT INTO data_keys (key_id, secret)
    SELECT * FROM unnest(CAST($1 AS text[]), CAST($2 AS bytea[]))
    ON CONFLICT (key_id) DO NOTHING
    RETURNING key_id, secret
)
SELECT key_id, secret FROM issued
UNION ALL
SELECT key_id, secret FROM data_keys
WHERE key_id = ANY(CAST($1 AS text[])) AND key_id NOT IN (SELECT key_id FROM issued)
"""
_READ = "SELECT key_id, secret FROM data_keys WHERE key_id = ANY(CAST($1 AS text[]))"
_DESTROY = text("""
INSERT INTO data_keys (key_id, secret, destroyed_at)
SELECT key_id, NULL, now() FROM unnest(CAST(:ids AS text[])) AS key_id
ON CONFLICT (key_id) DO UPDATE SET secret = NULL, destroyed_at = now()
WHERE data_keys.secret IS NOT NULL
""")


class KeyVault:
    """Data keys by id, in the vault schema that ``engine`` is bound to."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Each operation is one statement (two when an issue waited on a concurrent issuer,
        # the second meant to see what it committed): none needs a transaction around it.
        self._autocommit = autocommit(engine)

    async def issue(self, key_ids: Collection[str]) -> dict[str, bytes | None]:
        """The secret of each key, made if it never existed; ``None`` for a destroyed one."""
        ids = sorted(set(key_ids))  # sorted: concurrent issuers lock rows in one order
        if not ids:
            return {}
        async with self._autocommit.connect() as connection:
            driver = await driver_connection(connection)
            rows = await driver.fetch(_ISSUE, ids, [new_secret() for _ in ids])
            found = {key_id: _secret(secret) for key_id, secret in rows}
            if len(found) < len(ids):
                # Issued by a concurrent issuer, whose commit the insert waited for. A
                # statement of its own: it sees what committed meanwhile.
                rows = await driver.fetch(_READ, [i for i in ids if i not in found])
                found |= {key_id: _secret(secret) for key_id, secret in rows}
        missing = set(ids) - set(found)
        if missing:
            raise RuntimeError(f"the vault did not issue keys {sorted(missing)[:3]}")
        return found

    async def secrets(self, key_ids: Collection[str]) -> dict[str, bytes | None]:
        """The secret of each known key (``None``: destroyed); unknown ids are left out."""
        if not key_ids:
            return {}
        async with self._autocommit.connect() as connection:
            rows = await (await driver_connection(connection)).fetch(_READ, list(set(key_ids)))
            return {key_id: _secret(secret) for key_id, secret in rows}

    async def destroyed(self, key_ids: Collection[str]) -> set[str]:
        """The keys among ``key_ids`` that were destroyed (what they sealed is unreadable)."""
        return {key_id for key_id, secret in (await self.secrets(key_ids)).items()
                if secret is None}

    async def open(self, envelopes: Sequence[Envelope]) -> list[Opened]:
        """Open the sealed payloads among ``envelopes`` in place, with one query. For each
        envelope: itself (opened, or in the clear all along), or why it stays sealed: its
        key was destroyed (:class:`KeyDestroyed`: its person was erased), or its seal is
        broken or its key unknown (:class:`BrokenSeal`). Nothing is opened if the query
        fails, so a caller may retry. Consumers get this from the kit."""
        secrets = await self.secrets({e.sealed_by for e in envelopes if e.sealed_by})
        return [_opened(envelope, secrets) for envelope in envelopes]

    async def destroy(self, key_ids: Collection[str]) -> int:
        """Destroy keys (ids never issued get a tombstone too); return how many were live
        or unknown before. Destroying twice changes nothing."""
        ids = sorted(set(key_ids))
        if not ids:
            return 0
        async with self._autocommit.connect() as connection:
            result = await connection.execute(_DESTROY, {"ids": ids})
            return int(result.rowcount)


def _opened(envelope: Envelope, secrets: Mapping[str, bytes | None]) -> Opened:
    try:
        open_envelope(envelope, secrets)
    except (KeyDestroyed, BrokenSeal) as why:
        return why
    return envelope


def _secret(value: bytes | None) -> bytes | None:
    return None if value is None else bytes(value)
