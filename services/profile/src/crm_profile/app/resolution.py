"""Identity resolution of touchpoints: evidence in, profile events out.

A consumer chunk is resolved in two lanes. The fast lane, first, attributes returning
customers' touchpoints (identifiers seen together before, one owner: most traffic)
under a shared lock, so that several consumers do it side by side: one query finds
them, none needs its component loaded. The rest follows in a second transaction under
the exclusive lock: one load of the state around their identifiers, each decided in
order against the state the previous ones left; then one write of the state, the
evidence and the events. While most of a consumer's touchpoints are not returning
customers' (a backfill of new people), its chunks go to the exclusive lane at once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_eventstore import EventMetadata, StatementQueue, StreamAppend, UnitOfWork
from crm_messaging import DeadLetter, FollowUp, InboundMessage, RetryLater
from crm_profile.adapters.erasure_store import ErasureStore
from crm_profile.adapters.identity_store import FirstLook, IdentityStore
from crm_profile.adapters.never_merge_store import NeverMergeStore
from crm_profile.app.identifiers import evidence_of
from crm_profile.app.profile_events import Cause, consent_observed, profile_events
from crm_profile.app.suppression import Suppression
from crm_profile.domain.identity import (
    CurrentIdentity,
    Decision,
    Evidence,
    EvolvingIdentity,
    IdentityRules,
    StateIndex,
    TouchpointAttributed,
    identifiers_to_load,
)
from crm_profile.domain.identity.incremental import decide_by_component, shortcut_decisions
from crm_profile.domain.identity.returning import returning_attribution
from crm_profile.domain.identity.state import root_of
from crm_servicekit.gc_policy import collection_deferred

__all__ = ["TouchpointResolver"]

TOUCHPOINT_RECORDED = "crm.touchpoints.v1.TouchpointRecorded"
# A large chunk's events are built in parts, each part's append running while the next
# part is built (see _write); the queue of statements gets a turn every few touchpoints.
_EVENTS_PER_APPEND = 400
_TOUCHPOINTS_PER_BREATH = 16


@dataclass(frozen=True)
class _Incoming:
    message: InboundMessage
    touchpoint: TouchpointRecorded
    evidence: Evidence
    tokens: tuple[str, ...]  # its identifiers' suppression tokens (Suppression.tokens)


class _Lanes:
    """Which lane a chunk tries first: the fast one (returning customers' touchpoints,
    under the shared lock) while most touchpoints of the last chunk were returning
    customers'; otherwise the exclusive one at once, rather than read everything twice."""

    def __init__(self) -> None:
        self.returning_share = 1.0

    def fast_first(self) -> bool:
        return self.returning_share >= 0.5

    def observe(self, returning: int, of: int) -> None:
        if of:
            self.returning_share = returning / of


@dataclass(frozen=True)
class TouchpointResolver:
    """The consumer (batch) handler of crm.touchpoints.v1."""

    rules: IdentityRules
    suppression: Suppression
    lanes: _Lanes = field(default_factory=_Lanes)

    async def __call__(self, messages: list[InboundMessage], uow: UnitOfWork) -> FollowUp | None:
        # No cyclic collection while the chunk may hold the identity lock: one that falls
        # due runs once the handler is done and the commit is on its way.
        with collection_deferred():
            incoming = [self._read(message) for message in messages]
            if not self.lanes.fast_first():
                await self._exclusively(uow, incoming, observe=True)
                return None
            rest = await self._fast_lane(uow, incoming)
        if not rest:
            return None

        async def exclusive_lane(next_uow: UnitOfWork) -> None:
            with collection_deferred():
                await self._exclusively(next_uow, rest, observe=False)
        return exclusive_lane

    async def _fast_lane(self, uow: UnitOfWork, incoming: list[_Incoming]) -> list[_Incoming]:
        """Attribute the returning customers' touchpoints under the shared lock, alongside
        other consumers doing the same; the others are returned, for the exclusive lane.

        What a returning decision reads (the covering evidence, its owner's identifiers
        and lineage, shared identifiers) changes only under the exclusive lock; what
        shared holders write (their own touchpoints' evidence and attribution, events on
        the owners' streams, each stream under a lock of its own) is not read by another
        holder's decisions. A touchpoint delivered to two holders at once is saved by one:
        the other's evidence finds it and the transaction is retried (then skips it)."""
        store = IdentityStore(uow.connection)
        await store.lock(shared=True)
        look = await self._first_look(store, incoming)
        incoming = _unseen(incoming, look.seen)
        suppressed = self.suppression.carrying(
            ((i.evidence.touchpoint_id, i.tokens) for i in incoming), look.suppressed)
        candidates = [i for i in incoming if i.evidence.touchpoint_id not in suppressed
                      and not i.evidence.identifiers & self.rules.blocked]
        covering = _for(candidates, look.covering)
        before = await store.state_for([*(i.evidence for i in candidates), *covering.values()])
        returning = self._returning(before, candidates, covering)
        self.lanes.observe(len(returning), len(incoming))
        decided = [(i, returning[i.evidence.touchpoint_id]) for i in candidates
                   if i.evidence.touchpoint_id in returning]
        if decided:
            state = EvolvingIdentity(before).apply(d for _, ds in decided for d in ds)
            await store.lock_profiles(d.customer_id for _, ds in decided for d in ds
                                      if isinstance(d, TouchpointAttributed))
            await self._write(store, uow, before, state, decided)
        return [i for i in incoming if i.evidence.touchpoint_id not in returning]

    async def _exclusively(self, uow: UnitOfWork, incoming: list[_Incoming], *,
                           observe: bool) -> None:
        """Resolve ``incoming`` under the exclusive lock: anything may change."""
        store = IdentityStore(uow.connection)
        await store.lock()
        look = await self._first_look(store, incoming)
        incoming = _unseen(incoming, look.seen)
        screened = await self.suppression.screen(ErasureStore(uow.connection), [
            (i.touchpoint, i.tokens, _metadata(i.message)) for i in incoming], look.suppressed)
        await uow.append_streams(screened.notices)
        incoming = [i for i in incoming if i.evidence.touchpoint_id not in screened.dropped]
        if not incoming:
            return
        covered = _covered_earlier(incoming, self.rules.blocked)
        first = True
        while incoming:
            # What is left was not decided with what this round loaded: resolved in the
            # next round, from the store as this round left it, as if it came later
            # (the order of arrival does not change the result). The first round loads
            # what the likely components need (and takes the covering evidence of the
            # first look: nothing was resolved since); the next ones, what any may need.
            left = await self._resolve(store, uow, incoming, covered, observe=observe,
                                       guess=first, covering=look.covering if first else None)
            if len(left) == len(incoming) and not (covered or first):
                raise RuntimeError("identity resolution of a chunk made no progress")
            incoming, covered, observe, first = left, frozenset(), False, False

    async def _resolve(
        self, store: IdentityStore, uow: UnitOfWork, incoming: list[_Incoming],
        covered: frozenset[str], *, observe: bool, guess: bool,
        covering: Mapping[str, Evidence] | None = None,
    ) -> list[_Incoming]:
        """Resolve what of ``incoming`` can be decided with one load of the state; the
        rest is returned, unresolved: the ``covered`` touchpoints (carrying no identifier
        an earlier one of the chunk did not carry with the others: no component is loaded
        for them) that turn out not to be returning customers', and those whose component,
        once earlier ones of the chunk are decided, reaches beyond what was loaded.
        ``covering``: :meth:`IdentityStore.covering` of them, if read already."""
        own = [i.evidence for i in incoming]
        unblocked = [i for i in incoming if not i.evidence.identifiers & self.rules.blocked]
        covering = (_for(unblocked, covering) if covering is not None
                    else await store.covering([i.evidence for i in unblocked]))
        evidence = [*own, *covering.values()]
        before = await store.state_for(evidence)
        returning = self._returning(before, incoming, covering)
        if observe:
            self.lanes.observe(len(returning), len(incoming))
        slow = [i for i in incoming
                if i.evidence.touchpoint_id not in returning
                and i.evidence.touchpoint_id not in covered]
        index = await self._load_around(store, slow, guess) if slow else _EvidenceIndex((), ())
        if loaded := _beyond(index.evidence(), evidence):  # newcomers' chunks load nothing
            before = await store.state_with(before, evidence, loaded)
            evidence += loaded
        # Never-merge facts (from splits) are state: this chunk obeys those about its evidence.
        chunk = replace(self, rules=await NeverMergeStore(uow.connection).rules_for(
            self.rules, evidence))
        state, decided = chunk._decide_in_order(before, index, incoming, returning, covered)
        await self._write(store, uow, before, state, decided)
        done = {item.evidence.touchpoint_id for item, _ in decided}
        return [i for i in incoming if i.evidence.touchpoint_id not in done]

    async def _first_look(self, store: IdentityStore, incoming: list[_Incoming]) -> FirstLook:
        """What ``incoming`` needs known first (one round trip): the touchpoints resolved
        already, the suppressions in force among their tokens, and the stored evidence
        covering each touchpoint that carries no blocked identifier."""
        return await store.first_look(
            (i.evidence.touchpoint_id for i in incoming), (t for i in incoming for t in i.tokens),
            [i.evidence for i in incoming if not i.evidence.identifiers & self.rules.blocked])

    def _read(self, message: InboundMessage) -> _Incoming:
        envelope = message.envelope
        if envelope.event_type != TOUCHPOINT_RECORDED:
            raise DeadLetter(f"unexpected event type {envelope.event_type} on touchpoints")
        touchpoint = TouchpointRecorded.FromString(envelope.payload)
        evidence = evidence_of(touchpoint)
        if not evidence.identifiers:
            raise DeadLetter(f"touchpoint {touchpoint.event_id} carries no identifier")
        return _Incoming(message, touchpoint, evidence, self.suppression.tokens(evidence))

    async def _write(
        self, store: IdentityStore, uow: UnitOfWork, before: CurrentIdentity,
        state: CurrentIdentity, decided: list[tuple[_Incoming, tuple[Decision, ...]]],
    ) -> None:
        """Store the decided touchpoints' evidence, the state they left and their events.

        Postgres writes while the events are built: the evidence and the state first,
        then each part's events while the next part's are built (a statement queue).
        Under the exclusive lock, this is time no other consumer can use."""
        touchpoints = await self._touchpoints(store, decided)

        async def save_evidence() -> None:
            saved = await store.save_evidence(
                {i.evidence: i.message.envelope.payload for i, _ in decided})
            if saved < len(decided):
                # Possible under the shared lock only: a copy resolved by another consumer
                # (a partition moved in a rebalance). Again, the copy is skipped as seen.
                raise RetryLater("a touchpoint of the chunk was resolved concurrently")

        async with StatementQueue() as queue:
            await queue.put(save_evidence)
            await queue.put(partial(store.save, before, state))
            appends: list[StreamAppend] = []
            for start in range(0, len(decided), _TOUCHPOINTS_PER_BREATH):
                part = decided[start:start + _TOUCHPOINTS_PER_BREATH]
                appends += _events(before, state, part, touchpoints)
                if len(appends) >= _EVENTS_PER_APPEND:
                    await queue.put(partial(uow.append_streams, appends))
                    appends = []
                else:
                    await queue.breathe()
            if appends:
                await queue.put(partial(uow.append_streams, appends))

    @staticmethod
    async def _touchpoints(
        store: IdentityStore, decided: list[tuple[_Incoming, tuple[Decision, ...]]],
    ) -> dict[str, bytes]:
        """The protobuf of every touchpoint the decisions attribute: the chunk's own, and
        stored ones that change hands."""
        own = {item.evidence.touchpoint_id: item.message.envelope.payload for item, _ in decided}
        moved = {d.touchpoint_id for _, ds in decided for d in ds
                 if isinstance(d, TouchpointAttributed)}
        return {**await store.payloads(moved - set(own)), **own}

    async def _load_around(
        self, store: IdentityStore, incoming: list[_Incoming], guess: bool
    ) -> _EvidenceIndex:
        """Every stored touchpoint any incoming touchpoint's component may depend on:
        a walk through unshared identifiers, completed by what the domain asks for
        (with ``guess``, only for touchpoints that are likely to need more)."""
        identifiers = set().union(*(i.evidence.identifiers for i in incoming))
        known = await store.evidence_around(identifiers, self.rules.blocked)
        index = _EvidenceIndex(known.evidence, known.queried)
        shared = set(known.shared)
        # A newcomer's touchpoint (no stored touchpoint carries its identifiers) needs
        # nothing more. Nor, likely, does one with no shared or blocked identifier in
        # reach: the walk went everywhere its component can go. If that guess is wrong,
        # the touchpoint waits for the next round (see _near), which asks for all.
        stop = frozenset(shared) | self.rules.blocked
        others = [i for i in incoming if not index.unknown(i.evidence.identifiers)
                  and (not guess or index.stops_in_reach(i.evidence, stop))]
        while missing := set().union(*(
                self._closure(index, i.evidence, frozenset(shared))[1] - index.loaded
                for i in others)):
            found, now_shared = await store.evidence_with(missing, index.ids())
            index.load(found, missing)
            shared |= now_shared
        return index

    def _closure(self, index: _EvidenceIndex, new: Evidence,
                 shared: frozenset[str]) -> tuple[list[Evidence], frozenset[str]]:
        return index.closure(new, shared | self.rules.blocked, self._needs(new, shared))

    def _near(self, index: _EvidenceIndex, new: Evidence,
              shared: frozenset[str]) -> tuple[list[Evidence], frozenset[str]]:
        """The known evidence ``new``'s decision needs, and the identifiers relied on."""
        if index.unknown(new.identifiers):  # a newcomer's: its component is itself
            return [], new.identifiers
        return self._closure(index, new, shared)

    def _needs(
        self, new: Evidence, shared: frozenset[str]
    ) -> Callable[[list[Evidence], frozenset[str]], frozenset[str]]:
        def needs(known: list[Evidence], loaded: frozenset[str]) -> frozenset[str]:
            return identifiers_to_load(new, known, self.rules, shared, loaded)
        return needs

    def _returning(self, state: CurrentIdentity, incoming: list[_Incoming],
                   covering: Mapping[str, Evidence]) -> dict[str, tuple[Decision, ...]]:
        """The returning customers' touchpoints (domain.identity.returning) and their
        decisions: they need no component loaded. Decided first; the order of a chunk
        does not matter to the result (resolution is order-independent)."""
        found: dict[str, tuple[Decision, ...]] = {}
        for item in incoming:
            cover = covering.get(item.evidence.touchpoint_id)
            decisions = returning_attribution(state, item.evidence, [cover] if cover else [],
                                              self.rules)
            if decisions is not None:
                found[item.evidence.touchpoint_id] = decisions
        return found

    def _decide_in_order(
        self, state: CurrentIdentity, index: _EvidenceIndex, incoming: list[_Incoming],
        returning: Mapping[str, tuple[Decision, ...]], covered: frozenset[str],
    ) -> tuple[CurrentIdentity, list[tuple[_Incoming, tuple[Decision, ...]]]]:
        """The decisions for ``incoming`` in order, each against the state the previous
        ones left; left out: a ``covered`` touchpoint that turns out not to be a returning
        customer's, and one whose component reaches beyond the loaded evidence."""
        decided = []
        located = StateIndex(state)  # each decision reads the part around its component
        for item in incoming:
            if (fast := returning.get(item.evidence.touchpoint_id)) is not None:
                state = located.apply(fast)
                index.add(item.evidence)
                decided.append((item, fast))
        for item in incoming:
            new = item.evidence
            if new.touchpoint_id in returning:
                continue
            if new.touchpoint_id in covered:
                decisions = returning_attribution(state, new, index.covering(new.identifiers),
                                                  self.rules)
                if decisions is None:
                    continue
            elif (decisions := self._shortcut(located, index, new)) is None:
                near, relied_on = self._near(index, new, frozenset(state.shared))
                if not relied_on <= index.loaded:  # earlier decisions widened the component
                    continue
                decisions = decide_by_component(located.restrict([*near, new]), new, near,
                                                self.rules, _new_customer_id)
            state = located.apply(decisions)
            index.add(new)
            decided.append((item, decisions))
        return state, decided

    def _shortcut(self, located: StateIndex, index: _EvidenceIndex,
                  new: Evidence) -> tuple[Decision, ...] | None:
        """``new``'s decisions if a shortcut takes it, found from the evidence carrying
        its identifiers alone (no component walked), else None. Every refusal loaded for
        the chunk is asked about, not only those of that evidence: a refusal involving
        the owner may have been made by a touchpoint of the owner's further away."""
        if not new.identifiers <= index.loaded:
            return None
        carrying = index.carrying(new.identifiers)
        return shortcut_decisions(located.holding([*carrying, new]), new, carrying, self.rules,
                                  _new_customer_id)

def _events(
    before: CurrentIdentity, state: CurrentIdentity,
    decided: list[tuple[_Incoming, tuple[Decision, ...]]], touchpoints: Mapping[str, bytes],
) -> list[StreamAppend]:
    """The profile events of ``decided`` (in order), and the consent their touchpoints
    gave or withdrew."""
    appends: list[StreamAppend] = []
    for item, decisions in decided:
        cause = Cause(item.evidence.touchpoint_id, item.evidence.occurred_at,
                      _metadata(item.message), touchpoints)
        appends += profile_events(decisions, cause)
        attributed = [d.customer_id for d in decisions if isinstance(d, TouchpointAttributed)
                      and d.touchpoint_id == item.evidence.touchpoint_id]
        if attributed:
            appends += consent_observed(attributed[-1], item.touchpoint, cause.metadata)
        appends += _moved_consent(before, state, decisions, item, cause)
    return appends


def _moved_consent(
    before: CurrentIdentity, after: CurrentIdentity, decisions: tuple[Decision, ...],
    item: _Incoming, cause: Cause,
) -> list[StreamAppend]:
    """The consent of ``consent`` touchpoints that changed hands, said again for their new
    owner; the old owner's copies stop counting (adapters.profiles: moved_away). Their
    traits need nothing: they travel with the touchpoint's ``TouchpointAttributed``."""
    appends: list[StreamAppend] = []
    for decision in decisions:
        if not isinstance(decision, TouchpointAttributed):
            continue
        touchpoint_id = decision.touchpoint_id
        previous = before.attribution.get(touchpoint_id)
        if touchpoint_id == item.evidence.touchpoint_id or (
                previous is not None and root_of(after, previous) == decision.customer_id):
            continue
        moved = TouchpointRecorded.FromString(cause.touchpoints[touchpoint_id])
        appends += consent_observed(decision.customer_id, moved,
                                    replace(cause.metadata, causation_id=touchpoint_id))
    return appends


class _EvidenceIndex:
    """Known evidence by identifier, so that each decision gets only what it can reach.

    ``loaded`` holds the identifiers whose touchpoints are all here (queried from the
    store, or first seen in this chunk).
    """

    def __init__(self, evidence: Iterable[Evidence], loaded: Iterable[str]) -> None:
        self._by_identifier: dict[str, list[Evidence]] = defaultdict(list)
        self._ids: dict[str, Evidence] = {}
        self.loaded: frozenset[str] = frozenset(loaded)
        for item in evidence:
            self.add(item)

    def evidence(self) -> list[Evidence]:
        return list(self._ids.values())

    def ids(self) -> list[str]:
        return list(self._ids)

    def add(self, evidence: Evidence) -> None:
        if evidence.touchpoint_id in self._ids:
            return
        self._ids[evidence.touchpoint_id] = evidence
        for identifier in evidence.identifiers:
            self._by_identifier[identifier].append(evidence)

    def unknown(self, identifiers: frozenset[str]) -> bool:
        """Whether all of ``identifiers`` are loaded and no known touchpoint carries any."""
        return identifiers <= self.loaded and not any(
            i in self._by_identifier for i in identifiers)

    def stops_in_reach(self, new: Evidence, stop: frozenset[str]) -> bool:
        """Whether ``new`` or evidence reachable from it (``around``) carries any of
        ``stop``."""
        near, _ = self.around(new.identifiers, stop)
        return any(not item.identifiers.isdisjoint(stop) for item in [*near, new])

    def carrying(self, identifiers: frozenset[str]) -> list[Evidence]:
        """The known evidence carrying any of ``identifiers``."""
        found: dict[str, Evidence] = {}
        for identifier in identifiers:
            for item in self._by_identifier.get(identifier, ()):
                found.setdefault(item.touchpoint_id, item)
        return list(found.values())

    def covering(self, identifiers: frozenset[str]) -> list[Evidence]:
        """The known evidence carrying all of ``identifiers`` (not empty)."""
        rarest = min(identifiers, key=lambda i: len(self._by_identifier.get(i, ())))
        return [e for e in self._by_identifier.get(rarest, ()) if e.identifiers >= identifiers]

    def load(self, evidence: Iterable[Evidence], identifiers: Iterable[str]) -> None:
        """Add what the store returned for ``identifiers``: now fully loaded."""
        for item in evidence:
            self.add(item)
        self.loaded |= frozenset(identifiers)

    def around(self, identifiers: Iterable[str],
               stop: frozenset[str]) -> tuple[list[Evidence], frozenset[str]]:
        """Evidence reachable from ``identifiers`` without passing through ``stop``, and
        the identifiers walked (all their evidence is in the result)."""
        reached: dict[str, Evidence] = {}
        visited = set(identifiers)
        frontier = [i for i in visited if i not in stop]
        walked = set(frontier)
        while frontier:
            identifier = frontier.pop()
            for item in self._by_identifier.get(identifier, ()):
                if item.touchpoint_id in reached:
                    continue
                reached[item.touchpoint_id] = item
                fresh = item.identifiers - visited
                visited |= fresh
                frontier += [i for i in fresh if i not in stop]
                walked |= {i for i in fresh if i not in stop}
        return list(reached.values()), frozenset(walked)

    def closure(
        self, new: Evidence, stop: frozenset[str],
        needs: Callable[[list[Evidence], frozenset[str]], frozenset[str]],
    ) -> tuple[list[Evidence], frozenset[str]]:
        """``around`` completed with the evidence the domain says the component needs,
        and the identifiers that took: the result is complete if they are all ``loaded``."""
        near, walked = self.around(new.identifiers, stop)
        found = {e.touchpoint_id: e for e in near}
        while extra := needs(list(found.values()), walked):
            for identifier in extra:
                for item in self._by_identifier.get(identifier, ()):
                    found.setdefault(item.touchpoint_id, item)
            walked |= extra
        return list(found.values()), walked


def _beyond(loaded: list[Evidence], known: list[Evidence]) -> list[Evidence]:
    """The loaded evidence that is not known yet (by touchpoint)."""
    ids = {item.touchpoint_id for item in known}
    return [item for item in loaded if item.touchpoint_id not in ids]


def _covered_earlier(incoming: list[_Incoming], blocked: frozenset[str]) -> frozenset[str]:
    """The touchpoints whose identifiers (none blocked) an earlier one of the chunk all
    carried: likely a returning customer's, once that one is resolved."""
    earlier: dict[str, list[frozenset[str]]] = defaultdict(list)
    covered = set()
    for item in incoming:
        identifiers = item.evidence.identifiers
        if not identifiers & blocked and any(
                identifiers <= carried for carried in earlier[min(identifiers)]):
            covered.add(item.evidence.touchpoint_id)
        for identifier in identifiers:
            earlier[identifier].append(identifiers)
    return frozenset(covered)


def _unseen(incoming: list[_Incoming], seen: frozenset[str]) -> list[_Incoming]:
    """``incoming`` without the touchpoints resolved already (``seen``, read under the
    lock) and repeats."""
    return _first_of_each([i for i in incoming if i.evidence.touchpoint_id not in seen])


def _for(incoming: list[_Incoming], covering: Mapping[str, Evidence]) -> dict[str, Evidence]:
    """The part of ``covering`` (by touchpoint) about ``incoming``."""
    return {i.evidence.touchpoint_id: covering[i.evidence.touchpoint_id] for i in incoming
            if i.evidence.touchpoint_id in covering}


def _first_of_each(incoming: list[_Incoming]) -> list[_Incoming]:
    unique: dict[str, _Incoming] = {}
    for item in incoming:
        unique.setdefault(item.evidence.touchpoint_id, item)
    return list(unique.values())


def _new_customer_id() -> str:
    return str(uuid.uuid4())


def _metadata(message: InboundMessage) -> EventMetadata:
    trace = message.trace
    return EventMetadata(correlation_id=trace.correlation_id, causation_id=message.event_id,
                         traceparent=trace.traceparent, tracestate=trace.tracestate)
