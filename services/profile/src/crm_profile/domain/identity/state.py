"""The identity state the service holds, and how decisions evolve it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import reduce

from crm_profile.domain.identity.decisions import (
    Decision,
    IdentifierLinked,
    IdentifierMarkedShared,
    IdentifierUnlinked,
    MergeBlocked,
    ProfileCreated,
    ProfilesMerged,
    ProfileUnmerged,
    TouchpointAttributed,
    TouchpointUnattributed,
)
from crm_profile.domain.identity.values import Evidence, Identifier, IdentityRules

__all__ = ["CurrentIdentity", "EvolvingIdentity", "MergedAway", "Profile", "apply", "evolve",
           "holding", "plain", "restrict", "root_of"]


@dataclass(frozen=True)
class Profile:
    """One person: the identifiers linked to them. ``created_order`` is a monotonic
    creation sequence; the older profile (lower order) survives a merge."""

    customer_id: str
    identifiers: frozenset[Identifier]
    created_order: int


@dataclass(frozen=True)
class MergedAway:
    """A profile as it was when merged ``into`` another: what an unmerge can restore."""

    profile: Profile
    into: str


@dataclass(frozen=True)
class CurrentIdentity:
    """The identity state (all of it, or the part around one component).

    ``attribution``: touchpoint id -> customer id. ``shared``: shared identifier -> the
    customers it was seen with. ``merged_away``: profiles merged into others (by id).
    ``blocked``: the merge refusals already recorded.
    """

    profiles: Mapping[str, Profile] = field(default_factory=dict)
    attribution: Mapping[str, str] = field(default_factory=dict)
    shared: Mapping[Identifier, frozenset[str]] = field(default_factory=dict)
    merged_away: Mapping[str, MergedAway] = field(default_factory=dict)
    blocked: frozenset[MergeBlocked] = frozenset()


def root_of(current: CurrentIdentity, customer_id: str) -> str:
    """The live profile a (possibly merged-away) customer id now lives in."""
    while customer_id in current.merged_away:
        customer_id = current.merged_away[customer_id].into
    return customer_id


def plain(current: CurrentIdentity, new: Evidence, rules: IdentityRules) -> bool:
    """Whether ``new`` is undecided and carries identifiers, none blocked or shared: what
    every shortcut (returning, newcomer, extension) asks before it looks further."""
    identifiers = new.identifiers
    return bool(identifiers) and new.touchpoint_id not in current.attribution and not (
        identifiers & rules.blocked or any(i in current.shared for i in identifiers))


def restrict(current: CurrentIdentity, component: Iterable[Evidence]) -> CurrentIdentity:
    """The part of the state a component of evidence touches (what its diff may change)."""
    evidence = list(component)
    identifiers = frozenset().union(*(item.identifiers for item in evidence))
    touchpoints = {item.touchpoint_id for item in evidence}
    profiles = {cid: p for cid, p in current.profiles.items()
                if not p.identifiers.isdisjoint(identifiers)}
    return CurrentIdentity(
        profiles=profiles,
        attribution={tp: current.attribution[tp] for tp in touchpoints
                     if tp in current.attribution},
        shared={i: current.shared[i] for i in identifiers if i in current.shared},
        merged_away={cid: m for cid, m in current.merged_away.items()
                     if root_of(current, cid) in profiles},
        blocked=frozenset(b for b in current.blocked if b.touchpoint_id in touchpoints),
    )


def holding(current: CurrentIdentity, evidence: Iterable[Evidence]) -> CurrentIdentity:
    """The state with only the live profiles holding an identifier of ``evidence``; the
    rest (attribution, shared identifiers, merged-away profiles, refusals) whole.

    What the shortcuts are told (incremental.shortcut_decisions): they scan the profiles
    and only look things up in the rest, so more of the rest changes nothing they decide,
    and leaving it whole spares the copies :func:`restrict` makes."""
    identifiers = frozenset[Identifier]().union(*(item.identifiers for item in evidence))
    return replace(current, profiles={
        cid: p for cid, p in current.profiles.items() if not p.identifiers.isdisjoint(identifiers)})


def apply(current: CurrentIdentity, decisions: Iterable[Decision]) -> CurrentIdentity:
    """The state after ``decisions``, in order."""
    return reduce(evolve, decisions, current)


def evolve(current: CurrentIdentity, decision: Decision) -> CurrentIdentity:
    """The state after one decision.

    A created profile gets the next ``created_order`` of ``current``: evolve the whole
    state (or assign the store's own sequence) so that orders stay globally monotonic.
    """
    match decision:
        case ProfileCreated():
            return _created(current, decision)
        case IdentifierLinked():
            return _relinked(current, decision.customer_id, add={decision.identifier})
        case IdentifierUnlinked():
            return _relinked(current, decision.customer_id, remove={decision.identifier})
        case ProfilesMerged():
            return _merged(current, decision)
        case ProfileUnmerged():
            return _unmerged(current, decision)
        case TouchpointAttributed():
            attribution = {**current.attribution, decision.touchpoint_id: decision.customer_id}
            return replace(current, attribution=attribution)
        case TouchpointUnattributed():
            attribution = {tp: cid for tp, cid in current.attribution.items()
                           if tp != decision.touchpoint_id}
            return replace(current, attribution=attribution)
        case MergeBlocked():
            return replace(current, blocked=current.blocked | {decision})
        case IdentifierMarkedShared():
            return _marked_shared(current, decision)


def _next_order(current: CurrentIdentity) -> int:
    orders = [p.created_order for p in current.profiles.values()]
    orders += [m.profile.created_order for m in current.merged_away.values()]
    return max(orders, default=-1) + 1


def _created(current: CurrentIdentity, decision: ProfileCreated) -> CurrentIdentity:
    profile = Profile(decision.customer_id, decision.identifiers, _next_order(current))
    return replace(current, profiles={**current.profiles, profile.customer_id: profile})


def _relinked(
    current: CurrentIdentity,
    customer_id: str,
    add: Iterable[Identifier] = (),
    remove: Iterable[Identifier] = (),
) -> CurrentIdentity:
    profile = current.profiles[customer_id]
    identifiers = (profile.identifiers | frozenset(add)) - frozenset(remove)
    profiles = {**current.profiles, customer_id: replace(profile, identifiers=identifiers)}
    return replace(current, profiles=profiles)


def _merged(current: CurrentIdentity, decision: ProfilesMerged) -> CurrentIdentity:
    survivor, away = decision.survivor_id, decision.merged_away_id
    gone = current.profiles[away]
    moved = _relinked(current, survivor, add=gone.identifiers)
    profiles = {cid: p for cid, p in moved.profiles.items() if cid != away}
    return replace(
        moved,
        profiles=profiles,
        merged_away={**current.merged_away, away: MergedAway(gone, survivor)},
        attribution={tp: survivor if cid == away else cid
                     for tp, cid in current.attribution.items()},
        shared={i: _renamed(cids, away, survivor) for i, cids in current.shared.items()},
    )


def _renamed(customer_ids: frozenset[str], old: str, new: str) -> frozenset[str]:
    return customer_ids - {old} | {new} if old in customer_ids else customer_ids


def _unmerged(current: CurrentIdentity, decision: ProfileUnmerged) -> CurrentIdentity:
    left = _relinked(current, decision.customer_id, remove=decision.identifiers)
    earlier = current.merged_away.get(decision.restored_id)
    order = earlier.profile.created_order if earlier else _next_order(current)
    restored = Profile(decision.restored_id, decision.identifiers, order)
    return replace(
        left,
        profiles={**left.profiles, restored.customer_id: restored},
        merged_away={cid: m for cid, m in current.merged_away.items()
                     if cid != decision.restored_id},
    )


def _marked_shared(current: CurrentIdentity, decision: IdentifierMarkedShared) -> CurrentIdentity:
    known = current.shared.get(decision.identifier, frozenset())
    shared = {**current.shared, decision.identifier: known | frozenset(decision.customer_ids)}
    return replace(current, shared=shared)


class EvolvingIdentity:
    """A state that decisions change in place: what :func:`apply` gives, without a copy of
    the whole state per decision.

    A chunk decides hundreds of touchpoints in order against one growing state; evolving
    it one decision at a time copied its maps each time (quadratic in the chunk), and
    finding the next creation order scanned every profile. Here the maps are copied once,
    from ``start`` (which is left as it was), and changed in place; a merge renames only
    the merged-away profile's attributions, found by an index of who holds which
    touchpoint. ``state`` is the state so far: a view that the next :meth:`apply`
    changes, so read it, don't keep it.
    """

    def __init__(self, start: CurrentIdentity) -> None:
        self._profiles = dict(start.profiles)
        self._attribution = dict(start.attribution)
        self._shared = dict(start.shared)
        self._merged_away = dict(start.merged_away)
        self._blocked = start.blocked
        self._order = _next_order(start)
        self._touchpoints_of: defaultdict[str, set[str]] = defaultdict(set)
        for touchpoint_id, customer_id in self._attribution.items():
            self._touchpoints_of[customer_id].add(touchpoint_id)
        self.state = self._view()

    def apply(self, decisions: Iterable[Decision]) -> CurrentIdentity:
        """The state after ``decisions``, in order (:func:`apply`, in place)."""
        for decision in decisions:
            self._evolve(decision)
        if self._blocked is not self.state.blocked:  # the maps are the view's own, changed in place
            self.state = self._view()
        return self.state

    def _view(self) -> CurrentIdentity:
        return CurrentIdentity(self._profiles, self._attribution, self._shared,
                               self._merged_away, self._blocked)

    def _evolve(self, decision: Decision) -> None:
        match decision:
            case ProfileCreated():
                self._profiles[decision.customer_id] = Profile(
                    decision.customer_id, decision.identifiers, self._take_order())
            case IdentifierLinked():
                self._relink(decision.customer_id, add={decision.identifier})
            case IdentifierUnlinked():
                self._relink(decision.customer_id, remove={decision.identifier})
            case ProfilesMerged():
                self._merge(decision.survivor_id, decision.merged_away_id)
            case ProfileUnmerged():
                self._unmerge(decision)
            case TouchpointAttributed():
                self._attribute(decision.touchpoint_id, decision.customer_id)
            case TouchpointUnattributed():
                self._attribute(decision.touchpoint_id, None)
            case MergeBlocked():
                self._blocked = self._blocked | {decision}
            case IdentifierMarkedShared():
                known = self._shared.get(decision.identifier, frozenset())
                self._shared[decision.identifier] = known | frozenset(decision.customer_ids)

    def _take_order(self) -> int:
        # Orders only grow: a profile leaves ``profiles`` only into ``merged_away`` (and
        # back), so the largest order of both never falls.
        order, self._order = self._order, self._order + 1
        return order

    def _relink(self, customer_id: str, add: Iterable[Identifier] = (),
                remove: Iterable[Identifier] = ()) -> None:
        profile = self._profiles[customer_id]
        identifiers = (profile.identifiers | frozenset(add)) - frozenset(remove)
        # Built, not replace()d: this runs for every link of a chunk, and replace
        # introspects the fields each time.
        self._profiles[customer_id] = Profile(customer_id, identifiers, profile.created_order)

    def _merge(self, survivor: str, away: str) -> None:
        gone = self._profiles[away]
        self._relink(survivor, add=gone.identifiers)
        del self._profiles[away]
        self._merged_away[away] = MergedAway(gone, survivor)
        for touchpoint_id in sorted(self._touchpoints_of[away]):
            self._attribute(touchpoint_id, survivor)
        for identifier, customer_ids in self._shared.items():
            if away in customer_ids:
                self._shared[identifier] = _renamed(customer_ids, away, survivor)

    def _unmerge(self, decision: ProfileUnmerged) -> None:
        self._relink(decision.customer_id, remove=decision.identifiers)
        earlier = self._merged_away.pop(decision.restored_id, None)
        order = earlier.profile.created_order if earlier else self._take_order()
        self._profiles[decision.restored_id] = Profile(
            decision.restored_id, decision.identifiers, order)

    def _attribute(self, touchpoint_id: str, customer_id: str | None) -> None:
        previous = self._attribution.pop(touchpoint_id, None) if customer_id is None \
            else self._attribution.get(touchpoint_id)
        if previous is not None:
            self._touchpoints_of[previous].discard(touchpoint_id)
        if customer_id is not None:
            self._attribution[touchpoint_id] = customer_id
            self._touchpoints_of[customer_id].add(touchpoint_id)
