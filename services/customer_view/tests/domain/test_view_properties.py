"""Properties of the customer view: a function of the set of events, nothing else.

Worlds of three customers are drawn as the profile service would publish them (every
event with its producer position), then delivered in any order, with duplicates.
PII values carry a marker (``zq<customer>``, or the customer's phone numbers) so that
a search of the serialized output finds any trace of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.common.v1 import types_pb2
from crm.profiles.v1 import profiles_pb2 as profiles
from crm.touchpoints.v1 import touchpoints_pb2 as touchpoints
from crm_contracts import channel_name
from crm_customer_view.domain import (
    CustomerRecord,
    ErasureFact,
    EventMeta,
    Fact,
    Identifier,
    Redirect,
    connected_customers,
    customer_key,
    customers_affected,
    digest,
    erased_values,
    facts_from_event,
    index_keys,
    keys_to_load,
    record_of,
    scrubbed_events,
    timeline,
    without_pii,
)

T0 = datetime(2024, 3, 1, tzinfo=UTC)
CUSTOMERS = ("c0", "c1", "c2")
HOUSEHOLD_PHONE = "+19998888000"
EMAIL, PHONE = types_pb2.IDENTIFIER_TYPE_EMAIL, types_pb2.IDENTIFIER_TYPE_PHONE
CHANNELS = {
    "order": touchpoints.CHANNEL_WEB, "refund": touchpoints.CHANNEL_STORE,
    "call": touchpoints.CHANNEL_CALL_CENTER, "survey_response": touchpoints.CHANNEL_EMAIL,
    "complaint": touchpoints.CHANNEL_CALL_CENTER, "page_view": touchpoints.CHANNEL_WEB,
    "consent": touchpoints.CHANNEL_WEB, "email_open": touchpoints.CHANNEL_EMAIL,
    "complaint_resolved": touchpoints.CHANNEL_CALL_CENTER,
}
PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)


# --- PII of each customer: every value carries a marker -----------------------------------


def marker(customer: str) -> str:
    return f"zq{customer}"


def email(customer: str, n: int = 0) -> str:
    return f"{marker(customer)}.m{n}@pii.test"


def phone(customer: str, n: int = 0) -> str:
    return f"+1999{CUSTOMERS.index(customer) if customer in CUSTOMERS else 9:04d}{n:03d}"


def name(customer: str, part: str, variant: int = 0) -> str:
    return f"Zq{customer}{part}{variant}"


def pii_found(customer: str, text: str) -> list[str]:
    """The PII of ``customer`` that ``text`` holds."""
    found = [marker(customer)] if marker(customer) in text.lower() else []
    return found + [p for p in (phone(customer, 0), phone(customer, 1)) if p in text]


# --- events as the profile service publishes them ------------------------------------------


def ts(moment: datetime) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(moment)
    return timestamp


def identifier(kind: int, value: str) -> types_pb2.Identifier:
    return types_pb2.Identifier(type=kind, value=value)


def money(amount: str, currency: str) -> types_pb2.Money:
    return types_pb2.Money(amount=amount, currency=currency)


@dataclass(frozen=True)
class Event:
    """A published event: its message, envelope id, producer position, time and cause
    (the envelope's causation id: the touchpoint, for what a touchpoint said)."""

    message: Message
    event_id: str
    position: int
    at: datetime
    cause: str = ""

    def facts(self) -> tuple[Fact, ...]:
        meta = EventMeta(self.event_id, self.position, self.at, self.cause)
        return facts_from_event(self.message.DESCRIPTOR.full_name, self.message, meta)

    def for_customer(self, customer: str) -> Event:
        """The same event about another customer (its ``customer_id`` replaced)."""
        copy = type(self.message)()
        copy.CopyFrom(self.message)
        copy.customer_id = customer
        for link in getattr(copy, "links", ()):
            link.customer_id = customer
        return replace(self, message=copy)

    def links(self) -> list[Event]:
        """The links the event carries, as events of their own (as older history has
        them): they stay when the touchpoint that made them goes."""
        return [replace(self, message=link, event_id=f"{self.event_id}-link-{n}")
                for n, link in enumerate(getattr(self.message, "links", ()))]


Said: TypeAlias = tuple[Message, datetime, str]
"""A message to publish, its time and its cause (``""``: none)."""


def said(message: Message, at: datetime, cause: str = "") -> Said:
    return message, at, cause


def observations(customer: str, touchpoint: touchpoints.TouchpointRecorded) -> list[Said]:
    """What the profile service says with each attribution of ``touchpoint`` to
    ``customer``: a ``TraitObserved`` per trait, a ``ConsentChanged`` for a consent
    touchpoint, each caused by the touchpoint."""
    at = touchpoint.occurred_at.ToDatetime(tzinfo=UTC)
    cause = touchpoint.event_id
    source = channel_name(touchpoint.channel)
    told = [said(profiles.TraitObserved(customer_id=customer, name=key, value=value,
                                        source=source, occurred_at=touchpoint.occurred_at),
                 at, cause) for key, value in sorted(touchpoint.traits.items())]
    if touchpoint.WhichOneof("properties") == "consent":
        consent = touchpoint.consent
        told.append(said(profiles.ConsentChanged(
            customer_id=customer, channel=consent.channel, purpose=consent.purpose,
            state=(profiles.CONSENT_STATE_GRANTED if consent.granted
                   else profiles.CONSENT_STATE_DENIED),
            evidence_event_id=touchpoint.event_id, occurred_at=touchpoint.occurred_at),
            at, cause))
    return told


@dataclass
class Mint:
    """Fresh event ids (no hex, so no PII marker can hide in one)."""

    count: int = 0

    def __call__(self, prefix: str = "ev") -> str:
        self.count += 1
        return f"{prefix}-{self.count}"


hours = st.integers(min_value=0, max_value=24 * 20)


@st.composite
def touchpoint_messages(draw: st.DrawFn, customer: str, event_id: str) -> Message:
    kind = draw(st.sampled_from(sorted(CHANNELS)))
    at = T0 + timedelta(hours=draw(hours))
    message = touchpoints.TouchpointRecorded(
        event_id=event_id, type=kind, channel=CHANNELS[kind], occurred_at=ts(at))
    message.identifiers.append(identifier(EMAIL, email(customer, draw(st.integers(0, 1)))))
    if draw(st.booleans()):
        message.identifiers.append(identifier(PHONE, phone(customer, draw(st.integers(0, 1)))))
    if draw(st.booleans()):
        variant = draw(st.integers(0, 1))
        message.traits.update(first_name=name(customer, "First", variant),
                              last_name=name(customer, "Last", variant),
                              city=name(customer, "City", variant))
    _set_properties(draw, message, kind, customer)
    return message


def _set_properties(draw: st.DrawFn, message: Message, kind: str, customer: str) -> None:
    if kind == "order":
        message.order.CopyFrom(touchpoints.OrderProperties(
            order_id=draw(st.sampled_from(["o-1", "o-2", "o-3"])),
            amount=money(draw(st.sampled_from(["10.00", "25.50", "99.99"])),
                         draw(st.sampled_from(["EUR", "USD", "XTS"]))),
            items=[touchpoints.OrderItem(sku="sku-1", name=name(customer, "Gift"), quantity=1,
                                         unit_price=money("10.00", "EUR"))]))
    elif kind == "refund":
        message.refund.CopyFrom(touchpoints.RefundProperties(
            order_id="o-1", amount=money("5.00", draw(st.sampled_from(["EUR", "USD"])))))
    elif kind == "call":
        message.call.CopyFrom(touchpoints.CallProperties(
            duration_seconds=draw(st.integers(0, 900)), reason="billing",
            satisfaction=draw(st.integers(1, 5))))
    elif kind == "survey_response":
        message.survey_response.CopyFrom(touchpoints.SurveyResponseProperties(
            nps=draw(st.integers(0, 10)), csat=draw(st.integers(1, 5)),
            comment=f"write to {email(customer)}"))
    elif kind == "complaint":
        message.complaint.CopyFrom(touchpoints.ComplaintProperties(
            category=draw(st.sampled_from(["billing", "delivery"])), severity="high"))
    elif kind == "page_view":
        message.page_view.CopyFrom(touchpoints.PageViewProperties(
            url=f"https://shop.test/account?u={email(customer)}", title=name(customer, "Page")))
    elif kind == "consent":
        message.consent.CopyFrom(touchpoints.ConsentProperties(
            channel="email", purpose=draw(st.sampled_from(["marketing", "survey"])),
            granted=draw(st.booleans())))
    elif kind == "complaint_resolved":
        message.generic.fields.update({"category": draw(st.sampled_from(["billing", "delivery"]))})
    else:
        message.generic.fields.update({"note": name(customer, "Note")})


@st.composite
def customer_events(
    draw: st.DrawFn, customer: str, mint: Mint, unlinks: bool = True
) -> list[Said]:
    """What the profile service says about one customer, without positions yet."""
    events: list[Said] = []
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(["touchpoint", "touchpoint", "trait", "consent", "link"]))
        at = T0 + timedelta(hours=draw(hours))
        if kind == "touchpoint":
            touchpoint = draw(touchpoint_messages(customer, mint("tp")))
            # It may carry the links it made (history before: IdentifierLinked events).
            carried = draw(st.sampled_from([(), (email(customer, 0),), (email(customer, 1),)]))
            message: Message = profiles.TouchpointAttributed(
                customer_id=customer, touchpoint=touchpoint, links=[profiles.IdentifierLinked(
                    customer_id=customer, identifier=identifier(EMAIL, v)) for v in carried])
            at = touchpoint.occurred_at.ToDatetime(tzinfo=UTC)
            events += observations(customer, touchpoint)
        elif kind == "trait":
            message = profiles.TraitObserved(
                customer_id=customer, name=draw(st.sampled_from(["first_name", "city"])),
                value=name(customer, "Edit", draw(st.integers(0, 1))), source="back_office",
                occurred_at=ts(at))
        elif kind == "consent":
            message = profiles.ConsentChanged(
                customer_id=customer, channel="email",
                purpose=draw(st.sampled_from(["marketing", "survey"])),
                state=draw(st.sampled_from([profiles.CONSENT_STATE_GRANTED,
                                            profiles.CONSENT_STATE_DENIED])),
                evidence_event_id=mint("evidence"), occurred_at=ts(at))
        else:
            value = draw(st.sampled_from([email(customer, 0), email(customer, 1)]))
            linked = profiles.IdentifierLinked(customer_id=customer,
                                               identifier=identifier(EMAIL, value))
            message = linked
            if unlinks and draw(st.booleans()):
                events.append(said(message, at))
                message = profiles.IdentifierUnlinked(customer_id=customer,
                                                      identifier=identifier(EMAIL, value))
        events.append(said(message, at))
    return events


def positioned(
    draw: st.DrawFn, mint: Mint, items: Sequence[Said]
) -> list[Event]:
    """The events with producer positions: the drawn order is the decision order."""
    order = draw(st.permutations(range(len(items))))
    return [Event(items[i][0], mint(), position + 1, items[i][1], items[i][2])
            for position, i in enumerate(order)]


@dataclass
class World:
    events: list[Event]
    erased: frozenset[str] = frozenset()  # the erased lineage, by an independent oracle
    shared_with: tuple[str, ...] = ()
    reattributed: bool = False  # a touchpoint (and its PII) moved to another customer

    def facts(self) -> list[Fact]:
        return [fact for event in self.events for fact in event.facts()]

    def customers(self) -> set[str]:
        return customers_affected(self.facts()) | set(CUSTOMERS)


@st.composite
def worlds(draw: st.DrawFn, reattribute: bool = True) -> World:
    """Three customers, merges, an unmerge, (re/un)attributions, sharing and an erasure."""
    mint = Mint()
    items: list[Said] = []
    for customer in CUSTOMERS:
        # A new profile carries its first links (history before it: IdentifierLinked events).
        first = draw(st.sampled_from([(), (email(customer, 0),), (email(customer, 1),)]))
        items.append(said(profiles.ProfileCreated(
            customer_id=customer, occurred_at=ts(T0), links=[profiles.IdentifierLinked(
                customer_id=customer, identifier=identifier(EMAIL, v)) for v in first]), T0))
        items += draw(customer_events(customer, mint))
    attributed = [m for m, _, _ in items if isinstance(m, profiles.TouchpointAttributed)]
    merges = draw(st.sampled_from([(), (("c0", "c1"),), (("c0", "c1"), ("c1", "c2"))]))
    for survivor, away in merges:
        items.append(said(profiles.ProfilesMerged(survivor_id=survivor, merged_away_id=away),
                          T0 + timedelta(hours=draw(hours))))
    if merges and draw(st.booleans()):
        items.append(said(profiles.ProfileUnmerged(
            customer_id="c0", restored_id="c1",
            identifiers=[identifier(EMAIL, email("c1", n)) for n in (0, 1)]),
            T0 + timedelta(hours=draw(hours))))
    if attributed and draw(st.booleans()):
        lost = draw(st.sampled_from(attributed))
        items.append(said(profiles.TouchpointUnattributed(
            customer_id=lost.customer_id, touchpoint_event_id=lost.touchpoint.event_id),
            lost.touchpoint.occurred_at.ToDatetime(tzinfo=UTC)))
    reattributed = reattribute and bool(attributed) and draw(st.booleans())
    if reattributed:
        moved = draw(st.sampled_from(attributed))
        owner = draw(st.sampled_from(CUSTOMERS))
        items.append(said(profiles.TouchpointAttributed(
            customer_id=owner, touchpoint=moved.touchpoint),
            moved.touchpoint.occurred_at.ToDatetime(tzinfo=UTC)))
        if draw(st.booleans()):  # said again for the new owner (or not: it must not matter)
            items += observations(owner, moved.touchpoint)
    shared_with: tuple[str, ...] = ()
    if draw(st.booleans()):
        shared_with = ("c0", "c2")
        items.append(said(profiles.IdentifierMarkedShared(
            identifier=identifier(PHONE, HOUSEHOLD_PHONE), customer_ids=list(shared_with)), T0))
    items.append(said(profiles.MergeBlocked(customer_ids=["c0", "c2"], reason="limit:email"),
                      T0))
    erased_customer = draw(st.sampled_from([None, *CUSTOMERS]))
    if erased_customer is not None:
        items.append(said(profiles.ProfileErased(customer_id=erased_customer,
                                                 erased_at=ts(T0)), T0))
    events = _unmerge_after_merge(positioned(draw, mint, items))
    return World(events, _erased_lineage(events), shared_with, reattributed)


def _unmerge_after_merge(events: list[Event]) -> list[Event]:
    """The profile service only unmerges what it merged: give the unmerge the last
    position of the two."""
    merge = next((e for e in events if isinstance(e.message, profiles.ProfilesMerged)
                  and e.message.merged_away_id == "c1"), None)
    unmerge = next((e for e in events if isinstance(e.message, profiles.ProfileUnmerged)), None)
    if merge is None or unmerge is None or unmerge.position > merge.position:
        return events
    swapped = {merge.event_id: unmerge.position, unmerge.event_id: merge.position}
    return [replace(e, position=swapped.get(e.event_id, e.position)) for e in events]


def _erased_lineage(events: list[Event]) -> frozenset[str]:
    """An independent oracle: the erased id and whoever was merged into it at that point."""
    parent: dict[str, str] = {}
    erased: set[str] = set()
    for event in sorted(events, key=lambda e: e.position):
        message = event.message
        if isinstance(message, profiles.ProfilesMerged):
            parent[message.merged_away_id] = message.survivor_id
        elif isinstance(message, profiles.ProfileUnmerged):
            parent.pop(message.restored_id, None)
        elif isinstance(message, profiles.ProfileErased):
            erased.add(message.customer_id)
            for customer in CUSTOMERS:
                ancestor = customer
                while ancestor in parent:
                    ancestor = parent[ancestor]
                    if ancestor == message.customer_id:
                        erased.add(customer)
    return frozenset(erased)


# --- what we compare -------------------------------------------------------------------------


def view_of(customer: str, facts: Iterable[Fact]) -> tuple[str, list[object]]:
    """The record's digest (or its redirect) and the serialized timeline."""
    facts = list(facts)
    record = record_of(customer, facts)
    head = digest(record) if isinstance(record, CustomerRecord) else f"-> {record.survivor_id}"
    return head, [entry.to_json(mask_pii=False) for entry in timeline(customer, facts)]


def comparable(record: CustomerRecord | Redirect, *without: str) -> dict[str, object]:
    assert isinstance(record, CustomerRecord)
    shown = record.to_json(mask_pii=False)
    return {key: value for key, value in shown.items() if key not in without}


def partition_key(message: Message) -> str:
    """The Kafka key the profile service gives the event (one partition per key)."""
    if isinstance(message, profiles.ProfilesMerged):
        return message.survivor_id
    if isinstance(message, profiles.MergeBlocked | profiles.IdentifierMarkedShared):
        return message.customer_ids[0]
    return str(message.customer_id)  # type: ignore[attr-defined]  # every other one has it


def kafka_arrival(draw: st.DrawFn, events: list[Event]) -> list[Event]:
    """Any interleaving of the partitions, each partition in its producer's order."""
    streams: dict[str, list[Event]] = {}
    for event in sorted(events, key=lambda e: e.position):
        streams.setdefault(partition_key(event.message), []).append(event)
    heads = {key: iter(stream) for key, stream in streams.items()}
    return [next(heads[partition_key(e.message)]) for e in draw(st.permutations(events))]


def redeliveries(draw: st.DrawFn, events: list[Event]) -> list[Fact]:
    """The events in a drawn arrival order, some delivered again (translated again)."""
    arrival = draw(st.permutations(events))
    again = draw(st.lists(st.sampled_from(events), max_size=8)) if events else []
    return [fact for event in [*arrival, *again] for fact in event.facts()]


# --- order independence and idempotence ------------------------------------------------------


@PROPERTY_SETTINGS
@given(world=worlds(), data=st.data())
def test_the_same_events_in_any_order_with_duplicates_give_the_same_view_of_everyone(
    world: World, data: st.DataObject
) -> None:
    facts = world.facts()
    delivered = redeliveries(data.draw, world.events)
    for customer in world.customers():
        assert view_of(customer, delivered) == view_of(customer, facts)


class LiveView:
    """What the service does with each message: file the facts once, recompute whom they
    affect from what it has stored, and scrub what an erasure covers."""

    def __init__(self) -> None:
        self.stored: dict[str, Fact] = {}
        self.index: dict[str, set[str]] = {}
        self.views: dict[str, tuple[str, list[object]]] = {}

    def receive(self, facts: Iterable[Fact]) -> None:
        fresh = [fact for fact in facts if fact.key not in self.stored]  # the inbox
        for fact in fresh:
            self.stored[fact.key] = fact
            for key in index_keys(fact):
                self.index.setdefault(key, set()).add(fact.key)
        affected = customers_affected(fresh)
        for fact in fresh:
            touchpoint_keys = {k for k in index_keys(fact) if k.startswith("touchpoint:")}
            affected |= customers_affected(self.load(touchpoint_keys))
        recompute: set[str] = set()
        for customer in affected:
            recompute |= connected_customers(customer, self.closure(customer))
        for customer in recompute:
            for fact in without_pii(self.closure(customer)):
                self.stored[fact.key] = fact
        for customer in recompute:
            self.views[customer] = view_of(customer, self.closure(customer))

    def load(self, keys: Iterable[str]) -> list[Fact]:
        found = {k for key in keys for k in self.index.get(key, ())}
        return [self.stored[k] for k in sorted(found)]

    def closure(self, customer: str) -> list[Fact]:
        keys = {customer_key(customer)}
        while True:
            loaded = self.load(keys)
            more = keys_to_load(customer, loaded)
            if more <= keys:
                return loaded
            keys |= more


@PROPERTY_SETTINGS
@given(world=worlds(), data=st.data())
def test_a_view_kept_live_message_by_message_equals_a_rebuild_from_the_whole_history(
    world: World, data: st.DataObject
) -> None:
    live = LiveView()
    for event in kafka_arrival(data.draw, world.events):
        live.receive(event.facts())
        if data.draw(st.booleans()):
            live.receive(event.facts())  # at-least-once
    facts = world.facts()
    for customer in world.customers():
        assert live.views.get(customer) == view_of(customer, facts), customer
    if not world.reattributed:  # else another customer owns a copy of the PII, rightly
        stored = repr(list(live.stored.values()))
        for customer in world.erased:
            assert pii_found(customer, stored) == [], "the stored facts keep erased PII"


# --- merges ------------------------------------------------------------------------------------


@st.composite
def two_histories_and_a_merge(draw: st.DrawFn) -> tuple[list[Event], Event]:
    """Histories of ``c0`` and ``c1`` and the merge of ``c1`` into ``c0``, interleaved in
    any decision order (``c1``'s events may come before or after the merge)."""
    mint = Mint()
    items = draw(customer_events("c0", mint, unlinks=False))
    items += draw(customer_events("c1", mint, unlinks=False))
    items.append(said(profiles.ProfilesMerged(survivor_id="c0", merged_away_id="c1"),
                      T0 + timedelta(hours=draw(hours))))
    events = positioned(draw, mint, items)
    merge = next(e for e in events if isinstance(e.message, profiles.ProfilesMerged))
    return [e for e in events if e is not merge], merge


@PROPERTY_SETTINGS
@given(histories=two_histories_and_a_merge(), data=st.data())
def test_a_merge_gives_the_record_one_customer_with_both_histories_would_have(
    histories: tuple[list[Event], Event], data: st.DataObject
) -> None:
    events, merge = histories
    merged = record_of("c0", redeliveries(data.draw, [*events, merge]))
    one = [e.for_customer("c0") if e.message.customer_id == "c1" else e for e in events]
    single = record_of("c0", [fact for event in one for fact in event.facts()])
    bookkeeping = ("merged_ids", "freshness", "consent")
    assert comparable(merged, *bookkeeping) == comparable(single, *bookkeeping)
    assert isinstance(merged, CustomerRecord) and isinstance(single, CustomerRecord)
    assert merged.merged_ids == ("c1",)
    assert record_of("c1", [*merged_facts(events, merge)]) == Redirect("c1", "c0")
    # Consent is the one field a merge may change, and only towards "denied".
    assert {(c.channel, c.purpose) for c in merged.consent} == {
        (c.channel, c.purpose) for c in single.consent}
    for after, before in zip(merged.consent, single.consent, strict=True):
        assert after == before or after.state == "denied"


def merged_facts(events: list[Event], merge: Event) -> list[Fact]:
    return [fact for event in [*events, merge] for fact in event.facts()]


@st.composite
def a_merge_and_its_unmerge(draw: st.DrawFn) -> tuple[list[Event], list[Event]]:
    """Two separate histories, and the same with ``c1`` merged into ``c0`` and restored
    later (the unmerge names every identifier ``c1`` linked before it)."""
    mint = Mint()
    items = draw(customer_events("c0", mint, unlinks=False))
    items += draw(customer_events("c1", mint, unlinks=False))
    # Base positions are 10, 20, ...; the merge and the unmerge fall in between anywhere.
    base = [replace(e, position=e.position * 10) for e in positioned(draw, mint, items)]
    merge_at = draw(st.integers(0, len(base))) * 10 + 4
    unmerge_at = draw(st.integers(merge_at // 10, len(base))) * 10 + 6
    linked = sorted({link.message.identifier.value for e in base for link in [e, *e.links()]
                     if isinstance(link.message, profiles.IdentifierLinked)
                     and link.message.customer_id == "c1" and e.position < unmerge_at})
    detour = [
        Event(profiles.ProfilesMerged(survivor_id="c0", merged_away_id="c1"), mint(),
              merge_at, T0 + timedelta(hours=draw(hours))),
        Event(profiles.ProfileUnmerged(customer_id="c0", restored_id="c1", identifiers=[
            identifier(EMAIL, value) for value in linked]), mint(),
            unmerge_at, T0 + timedelta(hours=draw(hours))),
    ]
    return base, detour


@PROPERTY_SETTINGS
@given(worlds_=a_merge_and_its_unmerge())
def test_an_unmerge_restores_both_records_as_if_the_merge_never_happened(
    worlds_: tuple[list[Event], list[Event]],
) -> None:
    base, detour = worlds_
    without = [fact for event in base for fact in event.facts()]
    with_detour = [fact for event in [*base, *detour] for fact in event.facts()]
    for customer in ("c0", "c1"):
        assert comparable(record_of(customer, with_detour), "freshness") == comparable(
            record_of(customer, without), "freshness")
        assert timeline(customer, with_detour) == timeline(customer, without)


# --- undo ----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(world=worlds(), data=st.data())
def test_an_unattribution_takes_the_touchpoint_out_of_the_record_entirely(
    world: World, data: st.DataObject
) -> None:
    attributions = [e for e in world.events
                    if isinstance(e.message, profiles.TouchpointAttributed)]
    if not attributions:
        return
    taken = data.draw(st.sampled_from(attributions))
    touchpoint = taken.message.touchpoint
    others = without_touchpoint(world.events, touchpoint.event_id)
    last = max(e.position for e in world.events)
    told = published(observations(taken.message.customer_id, touchpoint), last + 1)
    undo = Event(profiles.TouchpointUnattributed(
        customer_id=taken.message.customer_id,
        touchpoint_event_id=touchpoint.event_id), "undo", last + len(told) + 1, taken.at)
    facts_with_undo = [f for e in [*others, taken, *told, undo] for f in e.facts()]
    facts_without = [f for e in [*others, *taken.links()] for f in e.facts()]
    for customer in world.customers():
        with_undo = record_of(customer, facts_with_undo)
        without = record_of(customer, facts_without)
        if isinstance(without, Redirect):
            assert with_undo == without
        else:
            assert comparable(with_undo, "freshness") == comparable(without, "freshness")


@PROPERTY_SETTINGS
@given(world=worlds(), data=st.data())
def test_a_touchpoint_that_changes_hands_takes_what_it_said_with_it(
    world: World, data: st.DataObject
) -> None:
    """A split or a re-resolution moves a touchpoint from A to B: A's record is then the
    record of A's history without it (its traits and consent included), and everyone's is
    the record they would have had, had the touchpoint gone to B in the first place."""
    attributions = [e for e in world.events
                    if isinstance(e.message, profiles.TouchpointAttributed)]
    if not attributions:
        return
    taken = data.draw(st.sampled_from(attributions))
    touchpoint, old = taken.message.touchpoint, taken.message.customer_id
    new = data.draw(st.sampled_from([c for c in CUSTOMERS if c != old]))
    others = without_touchpoint(world.events, touchpoint.event_id)
    last = max(e.position for e in world.events) + 1
    told_old = published(observations(old, touchpoint), last)
    move = published([said(profiles.TouchpointAttributed(customer_id=new, touchpoint=touchpoint),
                           taken.at)], last + len(told_old))
    if data.draw(st.booleans()):  # the profile service says it again for the new owner
        move += published(observations(new, touchpoint), last + len(told_old) + 1)
    moved = [f for e in [*others, taken, *told_old, *move] for f in e.facts()]
    never_old = [f for e in [*others, *taken.links(), *move] for f in e.facts()]
    without = [f for e in [*others, *taken.links()] for f in e.facts()]

    def root(customer: str, facts: list[Fact]) -> str:
        record = record_of(customer, facts)
        return record.survivor_id if isinstance(record, Redirect) else customer

    if root(old, moved) != root(new, moved):
        assert comparable_view(old, moved) == comparable_view(old, without)
    for customer in world.customers():
        assert comparable_view(customer, moved) == comparable_view(customer, never_old)


def comparable_view(customer: str, facts: list[Fact]) -> tuple[object, list[object]]:
    """The record but its freshness (it counts every fact folded), and the timeline."""
    record = record_of(customer, facts)
    shown = record if isinstance(record, Redirect) else comparable(record, "freshness")
    return shown, [entry.to_json(mask_pii=False) for entry in timeline(customer, facts)]


def without_touchpoint(events: Iterable[Event], touchpoint_id: str) -> list[Event]:
    """``events`` without the (un)attributions of the touchpoint and what it said."""
    return [e for e in events if e.cause != touchpoint_id and not (
        isinstance(e.message, profiles.TouchpointAttributed | profiles.TouchpointUnattributed)
        and _touchpoint_id(e.message) == touchpoint_id)]


def published(items: Sequence[Said], first_position: int) -> list[Event]:
    """``items`` as events, in their order from ``first_position`` on."""
    return [Event(message, f"late-{first_position + n}", first_position + n, at, cause)
            for n, (message, at, cause) in enumerate(items)]


def _touchpoint_id(message: Message) -> str:
    if isinstance(message, profiles.TouchpointAttributed):
        return message.touchpoint.event_id
    assert isinstance(message, profiles.TouchpointUnattributed)
    return message.touchpoint_event_id


# --- erasure ---------------------------------------------------------------------------------


def everything_shown(facts: list[Fact], customers: Iterable[str]) -> str:
    """Every record and timeline, serialized, as an API reader with PII rights sees them."""
    shown = []
    for customer in customers:
        record = record_of(customer, facts)
        shown.append(record.to_json(mask_pii=False) if isinstance(record, CustomerRecord)
                     else record.to_json())
        shown.append([e.to_json(mask_pii=False) for e in timeline(customer, facts)])
    return json.dumps(shown)


@PROPERTY_SETTINGS
@given(world=worlds(reattribute=False), data=st.data())
def test_an_erasure_leaves_no_pii_of_the_person_in_any_record_or_timeline(
    world: World, data: st.DataObject
) -> None:
    shown = everything_shown(redeliveries(data.draw, world.events), world.customers())
    for customer in world.erased:
        assert pii_found(customer, shown) == []
    if world.erased and set(world.shared_with) <= world.erased:
        assert HOUSEHOLD_PHONE not in shown


@PROPERTY_SETTINGS
@given(world=worlds(reattribute=False))
def test_an_erasure_spares_the_pii_of_everyone_else(world: World) -> None:
    facts = world.facts()
    spared = set(CUSTOMERS) - world.erased
    for customer in spared:
        own = record_of(customer, facts)
        if isinstance(own, CustomerRecord) and own.traits:
            shown = json.dumps(own.to_json(mask_pii=False))
            assert any(pii_found(c, shown) for c in spared), "a bystander's traits were erased"


@PROPERTY_SETTINGS
@given(world=worlds())
def test_scrubbing_the_stored_facts_changes_no_record(world: World) -> None:
    facts = world.facts()
    scrubbed = list(without_pii(facts))
    assert list(without_pii(scrubbed)) == scrubbed
    assert [f.key for f in scrubbed] == [f.key for f in facts]
    for customer in world.customers():
        assert view_of(customer, scrubbed) == view_of(customer, facts)


@PROPERTY_SETTINGS
@given(world=worlds(), data=st.data())
def test_the_events_to_store_back_are_whole_events_as_without_pii_leaves_them(
    world: World, data: st.DataObject
) -> None:
    rewritten = scrubbed_events(redeliveries(data.draw, world.events))
    scrubbed = {fact.key: fact for fact in without_pii(world.facts())}
    for event in world.events:
        stored = event.facts()
        expected = tuple(scrubbed[fact.key] for fact in stored)
        if expected == stored:
            assert event.event_id not in rewritten
        else:
            assert rewritten[event.event_id] == expected
    if not world.erased:
        assert rewritten == {}


@PROPERTY_SETTINGS
@given(world=worlds(reattribute=False), data=st.data())
def test_what_an_erasure_takes_covers_every_value_of_the_person_a_record_ever_showed(
    world: World, data: st.DataObject
) -> None:
    facts = world.facts()
    taken = erased_values(facts, without_pii(facts))
    received: list[Fact] = []
    for event in kafka_arrival(data.draw, world.events):
        if isinstance(event.message, profiles.ProfileErased):
            break  # what was published before the erasure is what must be redacted
        received += event.facts()
        for customer in world.customers():
            record = record_of(customer, received)
            if not isinstance(record, CustomerRecord):
                continue
            for person in world.erased:
                for shown in record.identifiers:
                    if pii_found(person, shown.value):
                        assert Identifier(shown.type, shown.value) in taken.identifiers
                for trait in record.traits:
                    if pii_found(person, trait.value):
                        assert trait.event_id in taken.trait_events


def test_a_touchpoint_published_after_the_erasure_is_erased_too() -> None:
    late = touchpoints.TouchpointRecorded(
        event_id="tp-late", type="page_view", channel=touchpoints.CHANNEL_WEB,
        occurred_at=ts(T0 - timedelta(days=30)),
        identifiers=[identifier(EMAIL, email("c0"))], traits={"first_name": name("c0", "F")},
        page_view=touchpoints.PageViewProperties(url=f"https://shop.test/?u={email('c0')}"))
    events = [
        Event(profiles.ProfileErased(customer_id="c0", erased_at=ts(T0)), "erase", 1, T0),
        Event(profiles.TouchpointAttributed(customer_id="c0", touchpoint=late), "late", 2, T0),
    ]
    facts = [fact for event in events for fact in event.facts()]
    assert any(isinstance(f, ErasureFact) for f in facts)
    assert pii_found("c0", everything_shown(facts, ["c0"])) == []
    record = record_of("c0", facts)
    assert isinstance(record, CustomerRecord) and record.erased
    assert [c.interactions for c in record.channels] == [1]
