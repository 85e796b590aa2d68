"""Splitting a profile, in the caller's transaction and under the identity lock (so it
cannot race the touchpoint consumer).

1. The profile's component: the evidence its split depends on, loaded as resolution
   loads it, and the identity state around it.
2. The rules: the configured ones and the never-merge facts already recorded about it.
3. The domain decides (``domain.identity.split``); a dry run stops here.
4. The identity state, the new never-merge fact, ``ProfileSplit`` and the events of the
   moves (unlinks, the new profile, links, re-attributed touchpoints, refused merges,
   and the traits and consent of the moved touchpoints for the new profile) are written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import to_timestamp
from crm_eventstore import EventMetadata, StreamAppend, UnitOfWork
from crm_profile.adapters.identity_store import IdentityStore
from crm_profile.adapters.never_merge_store import NeverMergeStore, RecordedSplit
from crm_profile.adapters.profiles import lineage
from crm_profile.app.identifiers import to_wire
from crm_profile.app.profile_events import Cause, consent_observed, profile_events, published
from crm_profile.domain.identity import (
    Evidence,
    IdentifiersNotInProfile,
    IdentityRules,
    ProfileMergedAway,
    Split,
    UnknownProfile,
    affected_component,
    apply,
    identifiers_to_load,
    split,
)

__all__ = ["SplitOutcome", "SplitRequest", "Splitter"]


@dataclass(frozen=True)
class SplitRequest:
    """Move ``identifiers`` (normalised ``type:value``) out of ``customer_id``."""

    customer_id: str
    identifiers: frozenset[str]
    reason: str
    requested_by: str  # an API key id, for the audit trail
    dry_run: bool = False


@dataclass(frozen=True)
class SplitOutcome:
    """The split decided, and the id of its ``ProfileSplit`` event (None for a dry run:
    nothing was written, and the new profile's id was not used)."""

    split: Split
    split_id: str | None


@dataclass(frozen=True)
class Splitter:
    """Splits profiles under the configured identity ``rules``."""

    rules: IdentityRules

    async def __call__(self, uow: UnitOfWork, request: SplitRequest,
                       metadata: EventMetadata) -> SplitOutcome:
        """Decide the split and, unless it is a dry run, record it.

        Raises a ``SplitRefused`` of the identity domain when it cannot be made.
        """
        identity = IdentityStore(uow.connection)
        await identity.lock()
        held = await _held_by(uow, request)
        component = await _component(identity, held, self.rules)
        facts = NeverMergeStore(uow.connection)
        before = await identity.state_for(component)
        done = split(before, component, await facts.rules_for(self.rules, component),
                     customer_id=request.customer_id, identifiers=request.identifiers,
                     new_customer_id=str(uuid.uuid4()), reason=request.reason)
        if request.dry_run:
            return SplitOutcome(done, None)
        now = datetime.now(UTC)
        announced = _announced(done, request, now, metadata)
        split_id = str(announced.events[0].event_id)
        await identity.save(before, apply(before, done.decisions))
        await facts.record(RecordedSplit(split_id, done.customer_id, done.new_customer_id,
                                         done.fact, request.requested_by))
        cause = Cause(split_id, now, metadata, await identity.payloads(done.touchpoints))
        await uow.append_streams([announced, *profile_events(done.decisions, cause),
                                  *_consent_moved(done, cause)])
        return SplitOutcome(done, split_id)


async def _held_by(uow: UnitOfWork, request: SplitRequest) -> frozenset[str]:
    """The identifiers of the live profile asked for (refusals for any other)."""
    person = await lineage(uow.connection, request.customer_id)
    if person is None:
        raise UnknownProfile(request.customer_id)
    if person.customer_id != request.customer_id:
        raise ProfileMergedAway(request.customer_id, person.customer_id)
    if not person.identifiers:  # everything it held became shared: nothing to load
        raise IdentifiersNotInProfile(request.customer_id, request.identifiers)
    return frozenset(person.identifiers)


async def _component(identity: IdentityStore, held: frozenset[str],
                     rules: IdentityRules) -> list[Evidence]:
    """The affected component of a touchpoint of the profile: it holds every touchpoint
    of the profile, those attributed through shared identifiers first seen with it, and
    everything their resolution depends on (loaded as resolution loads it)."""
    around = await identity.evidence_around(held, rules.blocked)
    known = {item.touchpoint_id: item for item in around.evidence}
    shared, loaded = set(around.shared), set(around.queried)
    seed = next((item for item in around.evidence if not item.identifiers.isdisjoint(held)),
                None)
    if seed is None:
        return []
    while need := identifiers_to_load(seed, known.values(), rules, frozenset(shared),
                                      frozenset(loaded)):
        found, now_shared = await identity.evidence_with(need, known)
        known.update((item.touchpoint_id, item) for item in found)
        loaded |= need
        shared |= now_shared
    ids = affected_component(seed, known.values(), rules, frozenset(shared))
    return [item for item in known.values() if item.touchpoint_id in ids]


def _announced(done: Split, request: SplitRequest, now: datetime,
               metadata: EventMetadata) -> StreamAppend:
    """``ProfileSplit`` on the split profile's stream; the moves follow it."""
    return published(done.customer_id, wire.ProfileSplit(
        customer_id=done.customer_id, new_customer_id=done.new_customer_id,
        identifiers=[to_wire(i) for i in sorted(done.identifiers)], reason=request.reason,
        requested_by=request.requested_by, occurred_at=to_timestamp(now)), now, metadata)


def _consent_moved(done: Split, cause: Cause) -> Iterable[StreamAppend]:
    """The consent the moved touchpoints gave, for the new profile, caused by the
    touchpoint as when it was first attributed (their traits travel with their
    ``TouchpointAttributed``). The split profile's copies stop counting: they were caused
    by touchpoints it no longer holds (adapters.profiles: moved_away)."""
    for touchpoint_id in done.touchpoints:
        touchpoint = TouchpointRecorded.FromString(cause.touchpoints[touchpoint_id])
        metadata = replace(cause.metadata, causation_id=touchpoint_id)
        yield from consent_observed(done.new_customer_id, touchpoint, metadata)
