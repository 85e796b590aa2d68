"""Erasing touchpoints whose person was erased (the profile service says which).

The touchpoint service cannot know whose a touchpoint is: identity resolution happens
downstream. So the profile service publishes the ids, ``TouchpointsErased`` for an
erased person's touchpoints and ``TouchpointSuppressed`` for one that arrived later
with an erased identifier, and this consumer redacts the stored touchpoints in place
(crm_contracts.privacy decides what is personal). The idempotency ledger keeps the id
and a content hash: enough to recognise a retry, nothing to read the person from.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.profiles.v1 import profiles_pb2 as profiles
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import message_class
from crm_contracts.privacy import touchpoint_without_pii
from crm_eventstore import UnitOfWork
from crm_messaging import InboundMessage
from crm_touchpoint.app.recording import stream_id

__all__ = ["ERASED_KEY", "ERASURE_EVENT_TYPES", "TouchpointErasure"]

_ERASED = profiles.TouchpointsErased.DESCRIPTOR.full_name
_SUPPRESSED = profiles.TouchpointSuppressed.DESCRIPTOR.full_name
_RECORDED = TouchpointRecorded.DESCRIPTOR.full_name
ERASURE_EVENT_TYPES = frozenset({_ERASED, _SUPPRESSED})
"""The events of crm.erasures.v1 this consumer acts on; it passes over the rest."""
ERASED_KEY = "erased"
"""The partition key of an erased touchpoint (it was the person's strongest identifier)."""


@dataclass(frozen=True)
class TouchpointErasure:
    """The consumer (batch) handler of crm.erasures.v1 in the touchpoint service."""

    async def __call__(self, messages: list[InboundMessage], uow: UnitOfWork) -> None:
        ids = sorted({i for message in messages for i in _erased_ids(message)})
        if not ids:
            return
        events = [e for e in await uow.read_streams(stream_id(i) for i in ids)
                  if e.event_type == _RECORDED]
        await uow.redact(
            {e.event_id: touchpoint_without_pii(TouchpointRecorded.FromString(e.payload))
             .SerializeToString(deterministic=True) for e in events},
            # The partition key was the strongest identifier: personal data too.
            {e.event_id: ERASED_KEY for e in events})


def _erased_ids(message: InboundMessage) -> list[str]:
    """The touchpoint ids a notice of crm.erasures.v1 asks to erase."""
    kind = message.envelope.event_type
    if kind not in ERASURE_EVENT_TYPES:
        return []
    event = message_class(kind).FromString(message.envelope.payload)
    if isinstance(event, profiles.TouchpointsErased):
        return list(event.touchpoint_event_ids)
    assert isinstance(event, profiles.TouchpointSuppressed)
    return [event.touchpoint_event_id]
