"""Identity resolution of one touchpoint: evidence in, profile events out, one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_eventstore import EventMetadata, UnitOfWork
from crm_messaging import DeadLetter, InboundMessage
from crm_profile.adapters.identity_store import IdentityStore
from crm_profile.app.identifiers import evidence_of
from crm_profile.app.profile_events import Cause, observations, profile_events
from crm_profile.domain.identity import (
    IdentityRules,
    TouchpointAttributed,
    apply,
    decide,
)

__all__ = ["TouchpointResolver"]

TOUCHPOINT_RECORDED = "crm.touchpoints.v1.TouchpointRecorded"


@dataclass(frozen=True)
class TouchpointResolver:
    """The consumer handler of crm.touchpoints.v1."""

    rules: IdentityRules

    async def __call__(self, message: InboundMessage, uow: UnitOfWork) -> None:
        envelope = message.envelope
        if envelope.event_type != TOUCHPOINT_RECORDED:
            raise DeadLetter(f"unexpected event type {envelope.event_type} on touchpoints")
        payload = envelope.payload
        touchpoint = TouchpointRecorded.FromString(payload)
        evidence = evidence_of(touchpoint)
        if not evidence.identifiers:
            raise DeadLetter(f"touchpoint {touchpoint.event_id} carries no identifier")
        store = IdentityStore(uow.connection)
        await store.lock()
        if await store.has_seen(evidence.touchpoint_id):
            return
        known = await store.evidence_around(evidence.identifiers, self.rules.blocked)
        current = await store.state_for([*known.evidence, evidence])
        decisions = decide(current, evidence, known.evidence, self.rules,
                           lambda: str(uuid.uuid4()))
        await store.save_evidence(evidence, payload)
        after = apply(current, decisions)
        await store.save(current, after)
        moved = {d.touchpoint_id for d in decisions if isinstance(d, TouchpointAttributed)}
        touchpoints = await store.payloads(moved - {evidence.touchpoint_id})
        touchpoints[evidence.touchpoint_id] = payload
        cause = Cause(evidence.touchpoint_id, evidence.occurred_at, _metadata(message),
                      touchpoints)
        appends = profile_events(decisions, cause)
        if customer := after.attribution.get(evidence.touchpoint_id):
            appends += observations(customer, touchpoint, cause.metadata)
        await uow.append_streams(appends)


def _metadata(message: InboundMessage) -> EventMetadata:
    trace = message.trace
    return EventMetadata(correlation_id=trace.correlation_id, causation_id=message.event_id,
                         traceparent=trace.traceparent, tracestate=trace.tracestate)
