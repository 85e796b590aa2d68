"""Record changes as events on crm.customer-view.v1, keyed by customer id.

Each change is appended to the customer's stream in the view's own event store, in the
transaction that stores the record: the outbox relay publishes it after the commit, so
the topic never says what the view did not keep, and never misses what it did.

The record travels masked, as an API caller without ``customers:read:pii`` reads it
(the masks of ``crm_customer_view.domain.masking``): segmentation needs no name, email
or phone, and the topic and the view's event store stay free of them.

On the topic, the changes are sealed by the customer's data key (the key the profile
service's events are sealed by, ``crm_messaging.sealing``): the erasure of the customer
destroys it, and every change published about them becomes unreadable, masks included.
Consumers learn of the erasure itself from ``ProfileErased`` on crm.profiles.v1.

An erasure also redacts the changes already stored (``redact_history``): they lose the
identifiers and traits the erasure took out of the facts, so that a republish of the
view's history (into a fresh broker) no longer carries even their masked forms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from crm.common.v1.types_pb2 import Money
from crm.customer_view.v1 import customer_view_pb2 as wire
from crm_contracts import pack_payload, to_timestamp
from crm_contracts.privacy import customer_key_id
from crm_customer_view.domain import CustomerRecord, ErasedValues, RecordChange, Redirect
from crm_customer_view.domain.masking import mask_identifier, mask_trait
from crm_customer_view.domain.metrics import ScoreSummary
from crm_eventstore import EventMetadata, NewEvent, RecordedEvent, StreamAppend, UnitOfWork
from crm_messaging.topics import CUSTOMER_VIEW

__all__ = ["changelog_appends", "changelog_seal", "masked_record", "record_changed",
           "redact_history", "redacted", "stream_of"]

_EVENT_TYPE = wire.CustomerRecordChanged.DESCRIPTOR.full_name
_CONSENT = {"granted": wire.CONSENT_STATE_GRANTED, "denied": wire.CONSENT_STATE_DENIED}


def stream_of(customer_id: str) -> str:
    """The stream of a customer's record changes: its version counts them."""
    return f"customer-view-{customer_id}"


def changelog_seal(event: RecordedEvent) -> str | None:
    """The seal policy of the view: a customer's changes are sealed by their data key."""
    return customer_key_id(event.customer_key) if event.topic == CUSTOMER_VIEW.name else None


def changelog_appends(
    changes: Iterable[RecordChange], at: datetime, metadata: Callable[[str], EventMetadata]
) -> list[StreamAppend]:
    """One published event per change, on the customer's stream; ``metadata`` gives the
    causation and trace of a customer's change."""
    appends = []
    for change in changes:
        event_type, payload = pack_payload(record_changed(change, at))
        event = NewEvent(event_type, payload, at, customer_key=change.customer_id,
                         topic=CUSTOMER_VIEW.name, metadata=metadata(change.customer_id))
        appends.append(StreamAppend(stream_of(change.customer_id), [event]))
    return appends


async def redact_history(uow: UnitOfWork, customer_ids: Iterable[str],
                         taken: ErasedValues) -> int:
    """Redact the stored changes of these customers (:func:`redacted`); how many changed."""
    if not taken:
        return 0
    payloads = {}
    for event in await uow.read_streams(stream_of(c) for c in customer_ids):
        payload = redacted(event.payload, taken) if event.event_type == _EVENT_TYPE else None
        if payload is not None:
            payloads[event.event_id] = payload
    return await uow.redact(payloads)


def redacted(payload: bytes, taken: ErasedValues) -> bytes | None:
    """A change without the identifiers (matched by type and mask) and the traits (by
    the event that carried them) an erasure took; None when it shows none of them."""
    message = wire.CustomerRecordChanged.FromString(payload)
    masks = {(i.type, mask_identifier(i.type, i.value)) for i in taken.identifiers}
    record, changed = message.record, False
    for kind in list(record.identifiers):
        seen = record.identifiers[kind].values
        kept = [v for v in seen if (kind, v.value) not in masks]
        if len(kept) < len(seen):
            changed = True
            del seen[:]
            seen.extend(kept)
        if not seen:
            del record.identifiers[kind]
    for name in [n for n, t in record.traits.items() if t.event_id in taken.trait_events]:
        changed = True
        del record.traits[name]
    return message.SerializeToString(deterministic=True) if changed else None


def record_changed(change: RecordChange, at: datetime) -> wire.CustomerRecordChanged:
    """The changelog event of one change (the record masked)."""
    message = wire.CustomerRecordChanged(customer_id=change.customer_id,
                                         changed=list(change.changed),
                                         occurred_at=to_timestamp(at))
    after = change.after
    if isinstance(after, Redirect):
        message.merged_into = after.survivor_id
    else:
        message.version = after.freshness.version
        message.erased = after.erased
        message.record.CopyFrom(masked_record(after))
    return message


def masked_record(record: CustomerRecord) -> wire.CustomerRecord:
    """The record as a caller without ``customers:read:pii`` reads it."""
    message = wire.CustomerRecord(
        customer_id=record.customer_id, merged_ids=list(record.merged_ids),
        erased=record.erased, segments=list(record.segments),
        recent_campaign_contacts=list(record.recent_campaign_contacts))
    _identifiers(record, message)
    _traits(record, message)
    message.consent.extend(
        wire.Consent(channel=c.channel, purpose=c.purpose, state=_CONSENT[c.state],
                     evidence_event_id=c.evidence_event_id,
                     occurred_at=to_timestamp(c.occurred_at)) for c in record.consent)
    for summary in record.channels:
        message.channels[summary.channel].CopyFrom(wire.ChannelSummary(
            interactions=summary.interactions,
            first_interaction=to_timestamp(summary.first_interaction),
            last_interaction=to_timestamp(summary.last_interaction)))
    _orders(record, message)
    _scores(record, message)
    message.open_complaints.extend(
        wire.OpenComplaint(event_id=c.event_id, channel=c.channel, category=c.category,
                           severity=c.severity, occurred_at=to_timestamp(c.occurred_at))
        for c in record.open_complaints)
    message.freshness.version = record.freshness.version
    if record.freshness.last_event_at is not None:
        message.freshness.last_event_at.CopyFrom(to_timestamp(record.freshness.last_event_at))
    return message


def _identifiers(record: CustomerRecord, message: wire.CustomerRecord) -> None:
    for identifier in record.identifiers:
        message.identifiers[identifier.type].values.append(wire.IdentifierSeen(
            value=mask_identifier(identifier.type, identifier.value),
            first_seen=to_timestamp(identifier.first_seen),
            last_seen=to_timestamp(identifier.last_seen), shared=identifier.shared))


def _traits(record: CustomerRecord, message: wire.CustomerRecord) -> None:
    for trait in record.traits:
        message.traits[trait.name].CopyFrom(wire.Trait(
            value=mask_trait(trait.name, trait.value), source=trait.source,
            occurred_at=to_timestamp(trait.occurred_at), event_id=trait.event_id))


def _orders(record: CustomerRecord, message: wire.CustomerRecord) -> None:
    orders, out = record.orders, message.orders
    out.currency, out.orders = orders.currency, orders.orders
    out.lifetime_revenue.CopyFrom(_money(orders.lifetime_revenue, orders.currency))
    if orders.average_order_value is not None:
        out.average_order_value.CopyFrom(_money(orders.average_order_value, orders.currency))
    if orders.last_order_at is not None:
        out.last_order_at.CopyFrom(to_timestamp(orders.last_order_at))
    out.unconverted.extend(
        wire.Unconverted(event_id=u.event_id, type=u.type,
                         amount=Money(amount=u.amount, currency=u.currency))
        for u in orders.unconverted)


def _scores(record: CustomerRecord, message: wire.CustomerRecord) -> None:
    currency = record.orders.currency
    if record.rfm is not None:
        rfm = record.rfm
        message.rfm.CopyFrom(wire.RfmScores(
            recency=rfm.recency, frequency=rfm.frequency, monetary=rfm.monetary,
            score=rfm.code, days_since_last_order=rfm.days_since_last_order))
    if record.clv is not None:
        clv = record.clv
        message.clv.CopyFrom(wire.ClvEstimate(
            value=_money(clv.value, currency), annual_margin=_money(clv.annual_margin, currency),
            revenue_per_year=_money(clv.revenue_per_year, currency),
            contacts_per_year=str(clv.contacts_per_year), observed_days=clv.observed_days,
            horizon_years=clv.horizon_years))
    message.satisfaction.nps.CopyFrom(_score(record.satisfaction.nps))
    message.satisfaction.csat.CopyFrom(_score(record.satisfaction.csat))


def _score(summary: ScoreSummary) -> wire.ScoreSummary:
    average = "" if summary.average is None else str(summary.average)
    score = wire.ScoreSummary(average=average, responses=summary.responses)
    if summary.latest is not None:
        score.latest = summary.latest
    return score


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=str(amount), currency=currency)
