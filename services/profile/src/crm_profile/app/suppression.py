"""Suppression: a touchpoint carrying an erased identifier does not bring the person back.

It is dropped before resolution (nothing of it is stored here), its data key is
destroyed (its copy on the topic becomes unreadable), it is counted on the
suppression list, and announced as ``TouchpointSuppressed`` (on crm.erasures.v1) so
that the services keeping touchpoints erase it too. A fresh consent (a consent
touchpoint that grants) is the exception: the person came back and asked to be known;
the suppression of what it carries is lifted and it is resolved like any other (as a
new person: the old identifiers live on only as tokens).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import from_timestamp, pack_payload
from crm_contracts.privacy import touchpoint_key_id
from crm_eventstore import EventMetadata, NewEvent, StreamAppend
from crm_messaging import KeyVault
from crm_messaging.topics import ERASURES
from crm_profile.adapters.erasure_store import ErasureStore
from crm_profile.domain.erasure import erased_token
from crm_profile.domain.identity import Evidence

__all__ = ["Screened", "Suppression"]


@dataclass(frozen=True)
class Screened:
    """The outcome for one chunk: touchpoint ids to drop, and the events to publish."""

    dropped: frozenset[str]
    notices: list[StreamAppend]


@dataclass(frozen=True)
class Suppression:
    token_key: bytes
    vault: KeyVault

    def tokens(self, evidence: Evidence) -> tuple[str, ...]:
        """The tokens of ``evidence``'s identifiers, as the suppression list holds them.
        Keyed hashes, a few microseconds each: worked out before the identity lock is
        taken, so that they do not lengthen the time it is held."""
        return tuple(erased_token(i, self.token_key) for i in sorted(evidence.identifiers))

    async def screen(
        self, store: ErasureStore,
        touchpoints: Sequence[tuple[TouchpointRecorded, Sequence[str], EventMetadata]],
        in_force: Mapping[str, str],
    ) -> Screened:
        """Which of ``touchpoints`` (each with its :meth:`tokens`) carry a suppressed
        identifier, given the suppressions ``in_force`` among their tokens (token ->
        receipt, read under the exclusive lock): dropped, or lifting the suppression with
        a fresh consent."""
        tokens = {tp.event_id: ts for tp, ts, _ in touchpoints}
        active = {t: in_force[t] for ts in tokens.values() for t in ts if t in in_force}
        if not active:
            return Screened(frozenset(), [])
        dropped: set[str] = set()
        counted: list[str] = []
        notices: list[StreamAppend] = []
        for touchpoint, _, metadata in touchpoints:
            hits = [t for t in tokens[touchpoint.event_id] if t in active]
            if not hits:
                continue
            receipt = active[hits[0]]
            if _fresh_consent(touchpoint):
                await store.lift(hits)
                notices.append(_notice(receipt, touchpoint, metadata, wire.SuppressionLifted(
                    receipt_id=receipt, evidence_event_id=touchpoint.event_id,
                    occurred_at=touchpoint.occurred_at)))
                for token in hits:
                    active.pop(token, None)
                continue
            dropped.add(touchpoint.event_id)
            counted += hits
            notices.append(_notice(receipt, touchpoint, metadata, wire.TouchpointSuppressed(
                touchpoint_event_id=touchpoint.event_id, receipt_id=receipt)))
        await store.count_dropped(counted)
        await self.vault.destroy([touchpoint_key_id(t) for t in dropped])
        return Screened(frozenset(dropped), notices)

    @staticmethod
    def carrying(touchpoints: Iterable[tuple[str, Sequence[str]]],
                 in_force: Mapping[str, str]) -> frozenset[str]:
        """Which of ``touchpoints`` (ids, each with its :meth:`tokens`) carry a suppression
        ``in_force`` (only read: :meth:`screen` decides what becomes of them)."""
        return frozenset(tp for tp, ts in touchpoints if any(t in in_force for t in ts))


def _fresh_consent(touchpoint: TouchpointRecorded) -> bool:
    return touchpoint.WhichOneof("properties") == "consent" and touchpoint.consent.granted


def _notice(receipt: str, touchpoint: TouchpointRecorded, metadata: EventMetadata,
            message: wire.TouchpointSuppressed | wire.SuppressionLifted) -> StreamAppend:
    event_type, payload = pack_payload(message)
    return StreamAppend(f"suppression-{receipt}", [NewEvent(
        event_type, payload, from_timestamp(touchpoint.occurred_at), customer_key=receipt,
        topic=ERASURES.name, metadata=metadata)])
