"""Erasing a person from the profile service, in one transaction under the identity lock.

1. The person: the live profile, every profile merged into it, their identifiers (own,
   not shared: a household phone stays with the others) and their touchpoints.
2. The identity state: erased identifiers become tokens (domain.erasure), in the
   never-merge facts of splits too; the person's stored touchpoints lose their personal
   data, reasons stop quoting the values.
3. History: every event of the person's streams, and any other event that quotes an
   erased value, is redacted in place (the one rewrite the event store allows).
4. The suppression list gets the tokens; a receipt (no personal data) is recorded.
5. The data keys that sealed the person's touchpoints and profile events on the topics
   are destroyed in the key vault (crypto-shredding): every copy on Kafka becomes
   unreadable. Before the commit: if it fails, nothing is erased and the caller retries;
   if the commit fails after it, the topics are unreadable a little early.
6. ``ProfileErased`` (on crm.profiles.v1, for the customer view) and
   ``TouchpointsErased`` (ids only, in parts, on crm.erasures.v1, for the touchpoint
   service) are published, so every other service erases its copy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from crm.profiles.v1 import profiles_pb2 as wire
from crm_contracts import to_timestamp
from crm_contracts.privacy import customer_key_id, touchpoint_key_id
from crm_eventstore import EventMetadata, StreamAppend, UnitOfWork
from crm_messaging import KeyVault
from crm_messaging.topics import ERASURES
from crm_profile.adapters.erasure_store import ErasureStore, Receipt
from crm_profile.adapters.identity_store import IdentityStore
from crm_profile.adapters.never_merge_store import NeverMergeStore
from crm_profile.adapters.profiles import Lineage, lineage
from crm_profile.app.profile_events import published, stream_of
from crm_profile.app.redaction import redacted_event, redacted_touchpoint
from crm_profile.domain.erasure import Erased

__all__ = ["TOUCHPOINTS_PER_NOTICE", "Eraser", "ProfileNotFound"]

TOUCHPOINTS_PER_NOTICE = 1_000
"""Touchpoint ids per TouchpointsErased event (keeps every message far below 1 MiB)."""


class ProfileNotFound(LookupError):
    """No profile has (or had) this id."""


@dataclass(frozen=True)
class Eraser:
    """Erases people; ``token_key`` is the deployment's secret for identifier tokens."""

    token_key: bytes

    async def erase(self, uow: UnitOfWork, vault: KeyVault, customer_id: str,
                    requested_by: str, metadata: EventMetadata) -> tuple[Receipt, bool]:
        """Erase the person ``customer_id`` belongs to; returns the receipt and whether
        this call erased them (False: they were erased before, the old receipt)."""
        await IdentityStore(uow.connection).lock()
        store = ErasureStore(uow.connection)
        if (earlier := await store.receipt_of(customer_id)) is not None:
            return earlier, False
        person = await lineage(uow.connection, customer_id)
        if person is None:
            raise ProfileNotFound(customer_id)
        erased = await self._erased(store, person)
        rows = await store.scrub_identity(
            erased, lambda tp, payload: redacted_touchpoint(tp, payload, erased))
        rows += await NeverMergeStore(uow.connection).scrub(erased)
        redacted = await _redact_history(uow, erased)
        receipt = Receipt(str(uuid.uuid4()), person.customer_id, person.ids(), requested_by,
                          None, len(erased.tokens), len(erased.touchpoints), redacted, rows)
        await store.save_receipt(receipt, erased.tokens.values())
        await vault.destroy([*map(customer_key_id, erased.customers),
                             *map(touchpoint_key_id, erased.touchpoints)])
        await uow.append_streams(_notices(receipt, erased, metadata))
        saved = await store.receipt(receipt.receipt_id)
        assert saved is not None
        return saved, True

    async def _erased(self, store: ErasureStore, person: Lineage) -> Erased:
        # The live profile's identifiers only: a merged-away profile's row keeps what it
        # held when merged, and some of that may belong to someone else now (a split, an
        # unmerge, a re-resolution moved it).
        ids = person.ids()
        return Erased.of(ids, person.identifiers, await store.touchpoints_of(ids),
                         self.token_key)


async def _redact_history(uow: UnitOfWork, erased: Erased) -> int:
    events = {e.event_id: e for e in await uow.read_streams(
        stream_of(c) for c in sorted(erased.customers))}
    for event in await uow.containing(v.encode() for v in erased.values()):
        events.setdefault(event.event_id, event)
    payloads = {event_id: new for event_id, event in events.items()
                if (new := redacted_event(event.event_type, event.payload, erased)) is not None}
    return await uow.redact(payloads)


def _notices(receipt: Receipt, erased: Erased, metadata: EventMetadata) -> list[StreamAppend]:
    now = datetime.now(UTC)
    appends = [published(receipt.customer_id, wire.ProfileErased(
        customer_id=receipt.customer_id, erased_at=to_timestamp(now),
        receipt_id=receipt.receipt_id), now, metadata)]
    touchpoints = sorted(erased.touchpoints)
    for start in range(0, len(touchpoints), TOUCHPOINTS_PER_NOTICE):
        appends.append(published(receipt.customer_id, wire.TouchpointsErased(
            customer_id=receipt.customer_id, receipt_id=receipt.receipt_id,
            touchpoint_event_ids=touchpoints[start:start + TOUCHPOINTS_PER_NOTICE]),
            now, metadata, topic=ERASURES.name))
    return appends
