"""Identity decisions as profile events (crm.profiles.v1), keyed by customer id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from google.protobuf.message import Message

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import from_timestamp, pack_payload, set_timestamp
from crm_contracts.privacy import customer_key_id
from crm_eventstore import EventMetadata, NewEvent, RecordedEvent, StreamAppend
from crm_messaging.topics import PROFILES
from crm_profile.app.identifiers import set_wire, to_wire
from crm_profile.domain import identity as decided

__all__ = ["Cause", "consent_observed", "profile_events", "profile_seal", "published",
           "stream_of"]

_ASSURANCE = {"verified": wire.ASSURANCE_VERIFIED, "self_asserted": wire.ASSURANCE_SELF_ASSERTED}


# Erasure notices hold ids only, and every service must read them after the keys are gone.
# The last three go on crm.erasures.v1 now (nothing there is sealed); they stay listed
# for older history, which holds them on crm.profiles.v1 and may be republished.
_IN_THE_CLEAR = frozenset(m.DESCRIPTOR.full_name for m in (
    wire.ProfileErased, wire.TouchpointsErased, wire.TouchpointSuppressed,
    wire.SuppressionLifted))


def profile_seal(event: RecordedEvent) -> str | None:
    """The seal policy of the profile service: a customer's events travel sealed by the
    customer's key, which their erasure destroys; erasure notices travel in the clear."""
    if event.topic != PROFILES.name or event.event_type in _IN_THE_CLEAR:
        return None
    return customer_key_id(event.customer_key)


def stream_of(customer_id: str) -> str:
    return f"profile-{customer_id}"


class Cause:
    """What caused the decisions: the touchpoint, its time, and the trace."""

    def __init__(self, touchpoint_id: str, occurred_at: datetime, metadata: EventMetadata,
                 touchpoints: Mapping[str, bytes]) -> None:
        self.touchpoint_id = touchpoint_id
        self.occurred_at = occurred_at
        self.metadata = metadata
        self.touchpoints = touchpoints  # protobuf of every touchpoint that may be attributed


def profile_events(decisions: Iterable[decided.Decision], cause: Cause) -> list[StreamAppend]:
    """One append per decision, on the stream of the customer it concerns; but links
    travel inside the event they belong with (see :func:`_messages`)."""
    appends = []
    for customer_id, message in _messages(decisions, cause):
        event_type, payload = pack_payload(message)
        event = NewEvent(event_type, payload, cause.occurred_at, customer_key=customer_id,
                         topic=PROFILES.name, metadata=cause.metadata)
        appends.append(StreamAppend(stream_of(customer_id), [event]))
    return appends


def _messages(
    decisions: Iterable[decided.Decision], cause: Cause,
) -> Iterator[tuple[str, Message]]:
    """The message of each decision, but ``IdentifierLinked`` decisions written into the
    event they belong with, a link or a message per identifier being a row in every store
    and a message on the topic:

    - the links right after a ``ProfileCreated`` of their customer, into it: a new
      customer is one event, not one per identifier (a new visitor: two events, not four);
    - links of a known customer by one touchpoint, right before that touchpoint's
      ``TouchpointAttributed`` to the customer, into it: a known customer seen with a new
      email is one event, not two.
    """
    decisions = list(decisions)
    n = 0
    while n < len(decisions):
        carrier, links = _carrier(decisions, n)
        customer_id, message = _message(carrier, cause)
        if isinstance(message, wire.ProfileCreated | wire.TouchpointAttributed):
            for link in links:
                _link(message.links.add(), link)
        yield customer_id, message
        n += 1 + len(links)


def _carrier(decisions: list[decided.Decision],
             n: int) -> tuple[decided.Decision, list[decided.IdentifierLinked]]:
    """The decision whose event is the next one from ``decisions[n]`` on, and the links
    that event carries (the decisions it takes: the carrier and the links)."""
    decision = decisions[n]
    if isinstance(decision, decided.ProfileCreated):
        return decision, _links(decisions, n + 1, decision.customer_id)
    if isinstance(decision, decided.IdentifierLinked):
        links = _links(decisions, n, decision.customer_id, decision.touchpoint_id)
        after = n + len(links)
        if after < len(decisions) and _attributes(decisions[after], decision):
            return decisions[after], links
    return decision, []


def _links(decisions: list[decided.Decision], start: int, customer_id: str,
           touchpoint_id: str | None = None) -> list[decided.IdentifierLinked]:
    """The ``IdentifierLinked`` decisions from ``start`` on (as long as they last) of
    ``customer_id`` (by ``touchpoint_id``, if given)."""
    links: list[decided.IdentifierLinked] = []
    while start + len(links) < len(decisions):
        decision = decisions[start + len(links)]
        if not isinstance(decision, decided.IdentifierLinked) \
                or decision.customer_id != customer_id \
                or touchpoint_id not in (None, decision.touchpoint_id):
            break
        links.append(decision)
    return links


def _attributes(decision: decided.Decision, link: decided.IdentifierLinked) -> bool:
    """Whether ``decision`` attributes ``link``'s touchpoint to ``link``'s customer."""
    return isinstance(decision, decided.TouchpointAttributed) \
        and (decision.customer_id, decision.touchpoint_id) == (link.customer_id,
                                                               link.touchpoint_id)


# Sub-messages are written in place (set_wire, set_timestamp, MergeFromString): a built
# one handed to a constructor, or appended, is copied, and a new visitor's events are
# built under the identity lock.
def _link(message: wire.IdentifierLinked, decision: decided.IdentifierLinked) -> None:
    message.customer_id = decision.customer_id
    set_wire(message.identifier, decision.identifier)
    message.source_event_id, message.rule = decision.touchpoint_id, decision.rule
    message.assurance = _ASSURANCE.get(decision.assurance, wire.ASSURANCE_UNSPECIFIED)


def _message(decision: decided.Decision, cause: Cause) -> tuple[str, Message]:
    source = cause.touchpoint_id
    match decision:
        case decided.ProfileCreated():
            created = wire.ProfileCreated(customer_id=decision.customer_id,
                                          source_event_id=source)
            set_timestamp(created.occurred_at, cause.occurred_at)
            return decision.customer_id, created
        case decided.IdentifierLinked():
            linked = wire.IdentifierLinked()
            _link(linked, decision)
            return decision.customer_id, linked
        case decided.ProfilesMerged():
            return decision.survivor_id, wire.ProfilesMerged(
                survivor_id=decision.survivor_id, merged_away_id=decision.merged_away_id,
                bridging_event_id=decision.touchpoint_id, rule=decision.rule,
                bridging_identifiers=[to_wire(i) for i in sorted(decision.bridging)])
        case decided.MergeBlocked():
            return decision.customer_ids[0], wire.MergeBlocked(
                customer_ids=list(decision.customer_ids), reason=decision.reason,
                bridging_event_id=decision.touchpoint_id)
        case decided.IdentifierUnlinked():
            return decision.customer_id, wire.IdentifierUnlinked(
                customer_id=decision.customer_id, identifier=to_wire(decision.identifier),
                reason=decision.reason, source_event_id=source)
        case decided.ProfileUnmerged():
            return decision.customer_id, wire.ProfileUnmerged(
                customer_id=decision.customer_id, restored_id=decision.restored_id,
                identifiers=[to_wire(i) for i in sorted(decision.identifiers)],
                reason=decision.reason, source_event_id=source)
        case decided.TouchpointAttributed():
            attributed = wire.TouchpointAttributed(customer_id=decision.customer_id)
            attributed.touchpoint.MergeFromString(cause.touchpoints[decision.touchpoint_id])
            return decision.customer_id, attributed
        case decided.TouchpointUnattributed():
            return decision.customer_id, wire.TouchpointUnattributed(
                customer_id=decision.customer_id, touchpoint_event_id=decision.touchpoint_id,
                reason=decision.reason)
        case decided.IdentifierMarkedShared():
            return decision.customer_ids[0] if decision.customer_ids else "", (
                wire.IdentifierMarkedShared(identifier=to_wire(decision.identifier),
                                            customer_ids=list(decision.customer_ids),
                                            reason=decision.reason))


def published(customer_id: str, message: Message, occurred_at: datetime,
              metadata: EventMetadata, *, topic: str = PROFILES.name) -> StreamAppend:
    """``message`` as an event on the customer's stream, published on ``topic``
    (crm.profiles.v1 unless said otherwise)."""
    event_type, payload = pack_payload(message)
    return StreamAppend(stream_of(customer_id), [NewEvent(
        event_type, payload, occurred_at, customer_key=customer_id, topic=topic,
        metadata=metadata)])


def consent_observed(customer_id: str, touchpoint: TouchpointRecorded,
                     metadata: EventMetadata) -> list[StreamAppend]:
    """The consent a ``consent`` touchpoint gives or withdraws, as its customer's event
    (none for other touchpoints).

    A touchpoint's traits get no event of their own: the ``TouchpointAttributed`` that
    carries the touchpoint says them, for whoever holds it now (:mod:`.profile_view`,
    and the customer view's fold). Consent keeps its ``ConsentChanged``, which names its
    evidence and is what the consent history shows."""
    if touchpoint.WhichOneof("properties") != "consent":
        return []
    consent = touchpoint.consent
    state = wire.CONSENT_STATE_GRANTED if consent.granted else wire.CONSENT_STATE_DENIED
    return [published(customer_id, wire.ConsentChanged(
        customer_id=customer_id, channel=consent.channel, purpose=consent.purpose,
        state=state, evidence_event_id=touchpoint.event_id,
        occurred_at=touchpoint.occurred_at), from_timestamp(touchpoint.occurred_at), metadata)]
