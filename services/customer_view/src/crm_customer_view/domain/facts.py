"""Facts: what the projection keeps of each event, as frozen values about customers.

Every fact carries the :class:`EventMeta` of its event and a ``part`` (an event may give
several facts), hence a unique :attr:`key` (``"<event id>/<part>"``): the projection state
is a *set* of facts, and a fact delivered twice is the same element.

Where the service files a fact: under every key of :func:`index_keys`. What it must load to
compute one customer's record: :func:`keys_to_load`, to a fixpoint. Whose records a batch
of facts may change: :func:`customers_affected`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from crm_customer_view.domain.values import EventMeta, Identifier, Touchpoint

__all__ = [
    "ConsentFact",
    "ConsentState",
    "CreationFact",
    "ErasureFact",
    "Fact",
    "IdentifierFact",
    "MergeFact",
    "SharedFact",
    "TouchpointFact",
    "TraitFact",
    "UnattributionFact",
    "UnlinkFact",
    "UnmergeFact",
    "connected_customers",
    "customer_key",
    "customers_affected",
    "index_keys",
    "keys_to_load",
    "touchpoint_key",
]

ConsentState = Literal["granted", "denied"]


class _FactBase:
    """What every fact has: its event's meta, its part, hence its key and its order."""

    __slots__ = ()
    meta: EventMeta
    part: int

    @property
    def key(self) -> str:
        """The idempotency key: one event's ``part``-th fact."""
        return f"{self.meta.event_id}/{self.part}"

    @property
    def order(self) -> tuple[int, str, int]:
        """The order of identity decisions: producer position, then event id, then part."""
        return self.meta.position, self.meta.event_id, self.part

    @property
    def customers(self) -> tuple[str, ...]:
        """The customer ids this fact is about."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TouchpointFact(_FactBase):
    """The touchpoint belongs to ``customer_id`` (until a later attribution or
    unattribution says otherwise)."""

    customer_id: str
    touchpoint: Touchpoint
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return (self.customer_id,)


@dataclass(frozen=True, slots=True)
class UnattributionFact(_FactBase):
    """The touchpoint no longer belongs to ``customer_id`` (nor to its merged lineage)."""

    customer_id: str
    touchpoint_event_id: str
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return (self.customer_id,)


@dataclass(frozen=True, slots=True)
class CreationFact(_FactBase):
    """The profile exists (a record with no interaction yet is still a record)."""

    customer_id: str
    occurred_at: datetime
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return (self.customer_id,)


@dataclass(frozen=True, slots=True)
class IdentifierFact(_FactBase):
    """``identifier`` is linked to ``customer_id`` (by a link, or moved back by an unmerge)."""

    customer_id: str
    identifier: Identifier
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return (self.customer_id,)


@dataclass(frozen=True, slots=True)
class UnlinkFact(_FactBase):
    """``identifier`` left ``customer_id`` (unlinked, or moved away by an unmerge)."""

    customer_id: str
    identifier: Identifier
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return (self.customer_id,)


@dataclass(frozen=True, slots=True)
class SharedFact(_FactBase):
    """``identifier`` is shared by these customers (a household phone): shown, flagged."""

    identifier: Identifier
    customer_ids: tuple[str, ...]
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return self.customer_ids


@dataclass(frozen=True, slots=True)
class TraitFact(_FactBase):
    """A trait value observed by the profile service: a back-office edit, or one of the
    traits of a touchpoint it attributed (``meta.causation_id``: the touchpoint), which
    the fold reads from the touchpoint instead (see ``fold``)."""

    customer_id: str
    name: str
    value: str
    source: str
    occurred_at: datetime
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return (self.customer_id,)


@dataclass(frozen=True, slots=True)
class ConsentFact(_FactBase):
    """A consent decision for (channel, purpose), with the event that is its evidence."""

    customer_id: str
    channel: str
    purpose: str
    state: ConsentState
    evidence_event_id: str
    occurred_at: datetime
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return (self.customer_id,)


@dataclass(frozen=True, slots=True)
class MergeFact(_FactBase):
    """``merged_away_id`` was folded into ``survivor_id`` at ``meta.occurred_at``."""

    survivor_id: str
    merged_away_id: str
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return self.survivor_id, self.merged_away_id


@dataclass(frozen=True, slots=True)
class UnmergeFact(_FactBase):
    """``restored_id`` (merged away earlier) is a profile of its own again. The identifiers
    it takes back travel as :class:`UnlinkFact` / :class:`IdentifierFact` of the same event."""

    customer_id: str
    restored_id: str
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return self.customer_id, self.restored_id


@dataclass(frozen=True, slots=True)
class ErasureFact(_FactBase):
    """The person of ``customer_id`` asked to be forgotten (see ``erasure``)."""

    customer_id: str
    erased_at: datetime
    meta: EventMeta
    part: int = 0

    @property
    def customers(self) -> tuple[str, ...]:
        return (self.customer_id,)


Fact: TypeAlias = (
    TouchpointFact
    | UnattributionFact
    | CreationFact
    | IdentifierFact
    | UnlinkFact
    | SharedFact
    | TraitFact
    | ConsentFact
    | MergeFact
    | UnmergeFact
    | ErasureFact
)
"""Any fact."""


def customer_key(customer_id: str) -> str:
    """The index key of a customer's facts."""
    return f"customer:{customer_id}"


def touchpoint_key(touchpoint_event_id: str) -> str:
    """The index key of every (un)attribution of one touchpoint, whoever it names."""
    return f"touchpoint:{touchpoint_event_id}"


def index_keys(fact: Fact) -> frozenset[str]:
    """The keys the service files ``fact`` under: one per customer it names, plus the
    touchpoint's key for an (un)attribution (a touchpoint may move between customers)."""
    keys = {customer_key(customer_id) for customer_id in fact.customers}
    touchpoint = _touchpoint_of(fact)
    if touchpoint is not None:
        keys.add(touchpoint_key(touchpoint))
    return frozenset(keys)


def keys_to_load(customer_id: str, facts: Iterable[Fact]) -> frozenset[str]:
    """The index keys whose facts :func:`record_of` needs for ``customer_id``, as far as
    the ``facts`` loaded so far show. Load them, call again, until nothing new appears.

    That is: every customer connected to ``customer_id`` through merges and unmerges (either
    direction, so a merged-away id finds its survivor), and every touchpoint attributed to
    one of them (a later attribution elsewhere takes it away).
    """
    facts = tuple(facts)
    connected = _connected(customer_id, facts)
    keys = {customer_key(c) for c in connected}
    for fact in facts:
        touchpoint = _touchpoint_of(fact)
        if touchpoint is not None and not connected.isdisjoint(fact.customers):
            keys.add(touchpoint_key(touchpoint))
    return frozenset(keys)


def customers_affected(facts: Iterable[Fact]) -> set[str]:
    """The customers whose records may change when ``facts`` join the set: everyone they
    name (survivors and merged-away ids of merges included).

    What the service adds, since it needs what it has stored:

    - for a touchpoint fact, the customers named by the stored facts under its
      :func:`touchpoint_key` (an attribution elsewhere takes the touchpoint from them);
    - for each affected id, every id :func:`connected_customers` to it: a merge that
      arrives late moves the survivor of ids it does not name, and the survivor of a
      merged-away id (:func:`record_of` answers it with a ``Redirect``) changes with it.
    """
    return {customer_id for fact in facts for customer_id in fact.customers}


def connected_customers(customer_id: str, facts: Iterable[Fact]) -> frozenset[str]:
    """``customer_id`` and every id linked to it by the merges and unmerges in ``facts``
    (either direction): the ids whose records one change in this lineage may touch."""
    return _connected(customer_id, tuple(facts))


def _touchpoint_of(fact: Fact) -> str | None:
    if isinstance(fact, TouchpointFact):
        return fact.touchpoint.event_id
    if isinstance(fact, UnattributionFact):
        return fact.touchpoint_event_id
    return None


def _connected(customer_id: str, facts: tuple[Fact, ...]) -> frozenset[str]:
    edges: dict[str, set[str]] = {}
    for fact in facts:
        if isinstance(fact, MergeFact | UnmergeFact):
            first, second = fact.customers
            edges.setdefault(first, set()).add(second)
            edges.setdefault(second, set()).add(first)
    seen, todo = {customer_id}, [customer_id]
    while todo:
        for neighbour in edges.get(todo.pop(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                todo.append(neighbour)
    return frozenset(seen)
