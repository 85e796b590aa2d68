"""Splitting a profile: chosen identifiers move to a new profile and never merge back.

A split records a manual fact, :class:`NeverMerge` (the moved identifiers on one side,
those that stay on the other), and carries it out with ordinary decisions. The result
is what :func:`resolve` of the same evidence gives under rules that include the fact:
that keeps incremental resolution of later touchpoints consistent, and a later
touchpoint bridging the two sides is refused (``MergeBlocked``, ``never_merge``).

A split is refused when resolution under the fact would not leave exactly the two
groups asked for (:class:`NotSeparable`): e.g. when the identifiers that stay were only
held together through the moved ones, or when the moved ones would join another
profile. Refusing is the conservative answer; the caller may move other identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from crm_profile.domain.identity._evidence import deduplicated
from crm_profile.domain.identity.decisions import (
    Decision,
    IdentifierLinked,
    IdentifierUnlinked,
    ProfileCreated,
    TouchpointAttributed,
)
from crm_profile.domain.identity.reconcile import follow_ups, provenance
from crm_profile.domain.identity.resolution import Resolution, resolve
from crm_profile.domain.identity.state import CurrentIdentity, Profile, apply, restrict, root_of
from crm_profile.domain.identity.values import Evidence, Identifier, IdentityRules, NeverMerge

__all__ = [
    "SPLIT",
    "IdentifiersNotInProfile",
    "IdentifiersShared",
    "NotSeparable",
    "NothingToMove",
    "NothingWouldRemain",
    "ProfileMergedAway",
    "Split",
    "SplitRefused",
    "UnknownProfile",
    "split",
]

SPLIT = "split"
"""The rule of the links and the reason of the unlinks a split makes."""


@dataclass(frozen=True)
class Split:
    """A split decided: the fact it records and the decisions that carry it out."""

    customer_id: str
    new_customer_id: str
    fact: NeverMerge  # left: the moved identifiers; right: those that stay
    decisions: tuple[Decision, ...]

    @property
    def identifiers(self) -> frozenset[Identifier]:
        """The identifiers that move to the new profile."""
        return self.fact.left

    @property
    def touchpoints(self) -> tuple[str, ...]:
        """The touchpoints that move to the new profile (their strongest identifier does)."""
        return tuple(d.touchpoint_id for d in self.decisions
                     if isinstance(d, TouchpointAttributed)
                     and d.customer_id == self.new_customer_id)


class SplitRefused(Exception):
    """Why a split cannot be made; nothing was decided."""


class UnknownProfile(SplitRefused):
    """No profile has this id."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"no profile {customer_id}")
        self.customer_id = customer_id


class ProfileMergedAway(SplitRefused):
    """The profile was merged into ``survivor_id``: split that one (its identifiers are there)."""

    def __init__(self, customer_id: str, survivor_id: str) -> None:
        super().__init__(f"profile {customer_id} was merged into {survivor_id}")
        self.customer_id = customer_id
        self.survivor_id = survivor_id


class NothingToMove(SplitRefused):
    """No identifier was chosen."""

    def __init__(self) -> None:
        super().__init__("choose at least one identifier to move")


class IdentifiersShared(SplitRefused):
    """Shared identifiers belong to no one profile, so they cannot move."""

    def __init__(self, identifiers: frozenset[Identifier]) -> None:
        super().__init__(f"shared identifiers cannot move: {', '.join(sorted(identifiers))}")
        self.identifiers = identifiers


class IdentifiersNotInProfile(SplitRefused):
    """Identifiers the profile does not hold."""

    def __init__(self, customer_id: str, identifiers: frozenset[Identifier]) -> None:
        super().__init__(f"profile {customer_id} does not hold {', '.join(sorted(identifiers))}")
        self.customer_id = customer_id
        self.identifiers = identifiers


class NothingWouldRemain(SplitRefused):
    """Every identifier of the profile was chosen: nothing would stay."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"moving every identifier of {customer_id} leaves nothing behind")
        self.customer_id = customer_id


class NotSeparable(SplitRefused):
    """Resolution under the never-merge fact does not give the two groups asked for.

    ``groups`` is how it would group the identifiers of the profile (a group may hold
    identifiers of another profile, when the moved ones would join it).
    """

    def __init__(self, customer_id: str, groups: tuple[frozenset[Identifier], ...]) -> None:
        shown = "; ".join(", ".join(sorted(group)) for group in groups)
        super().__init__(f"the evidence would group the identifiers of {customer_id} as: {shown}")
        self.customer_id = customer_id
        self.groups = groups


def split(
    current: CurrentIdentity,
    component: Iterable[Evidence],
    rules: IdentityRules,
    *,
    customer_id: str,
    identifiers: Iterable[Identifier],
    new_customer_id: str,
    reason: str,
) -> Split:
    """Move ``identifiers`` out of ``customer_id`` into a new profile ``new_customer_id``.

    ``current`` is the identity state (all of it, or the part around the component, with
    the profile asked for or its merged-away record); ``component`` the evidence of the
    profile's affected component (or all evidence); ``rules`` hold the never-merge facts
    already recorded about it. Raises a :class:`SplitRefused` when the split cannot be made.
    """
    profile = _live(current, customer_id)
    moved = _movable(current, profile, frozenset(identifiers))
    fact = NeverMerge(moved, profile.identifiers - moved, reason)
    evidence = deduplicated(component)
    touched = restrict(current, evidence)
    target = resolve(evidence, replace(rules, never_merge=(*rules.never_merge, fact)),
                     shared=frozenset(current.shared))
    owner = _owners(touched, target, profile, fact, new_customer_id)
    moves = _moves(profile, fact.left, new_customer_id, evidence)
    after = apply(touched, moves)
    decisions = (*moves, *follow_ups(touched, after, target, owner, evidence))
    return Split(customer_id, new_customer_id, fact, decisions)


def _live(current: CurrentIdentity, customer_id: str) -> Profile:
    if customer_id in current.merged_away:
        raise ProfileMergedAway(customer_id, root_of(current, customer_id))
    profile = current.profiles.get(customer_id)
    if profile is None:
        raise UnknownProfile(customer_id)
    return profile


def _movable(
    current: CurrentIdentity, profile: Profile, identifiers: frozenset[Identifier]
) -> frozenset[Identifier]:
    if not identifiers:
        raise NothingToMove()
    if shared := frozenset(i for i in identifiers if i in current.shared):
        raise IdentifiersShared(shared)
    if foreign := identifiers - profile.identifiers:
        raise IdentifiersNotInProfile(profile.customer_id, foreign)
    if identifiers == profile.identifiers:
        raise NothingWouldRemain(profile.customer_id)
    return identifiers


def _owners(
    touched: CurrentIdentity,
    target: Resolution,
    profile: Profile,
    fact: NeverMerge,
    new_customer_id: str,
) -> tuple[str, ...]:
    """Who holds each target cluster: the new profile the moved identifiers, the profile
    the rest, every other profile what it holds now (else the split is not separable)."""
    holder = {p.identifiers: p.customer_id for p in touched.profiles.values()
              if p.identifiers and p.customer_id != profile.customer_id}
    holder[fact.right] = profile.customer_id
    holder[fact.left] = new_customer_id
    if set(target.clusters) != set(holder):
        groups = tuple(c for c in target.clusters if not c.isdisjoint(profile.identifiers))
        raise NotSeparable(profile.customer_id, groups)
    return tuple(holder[cluster] for cluster in target.clusters)


def _moves(
    profile: Profile,
    moved: frozenset[Identifier],
    new_customer_id: str,
    evidence: Sequence[Evidence],
) -> tuple[Decision, ...]:
    """Unlinks from the profile, then the new profile with each identifier linked
    (showing the touchpoint that shows it best, as every link does)."""
    best = provenance(evidence)
    return (
        *(IdentifierUnlinked(profile.customer_id, i, SPLIT) for i in sorted(moved)),
        ProfileCreated(new_customer_id, moved),
        *(IdentifierLinked(new_customer_id, i, best[i].touchpoint_id, SPLIT, best[i].assurance)
          for i in sorted(moved)),
    )
