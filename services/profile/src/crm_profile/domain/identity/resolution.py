"""Batch identity resolution: a pure function of the set of evidence (docs/identity.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from crm_profile.domain.identity._clusters import Clusters
from crm_profile.domain.identity._evidence import Touchpoint, canonical, shared_identifiers
from crm_profile.domain.identity.values import Evidence, Identifier, IdentityRules

__all__ = ["BlockedMerge", "Resolution", "resolve"]


@dataclass(frozen=True)
class BlockedMerge:
    """A union refused by a rule: ``touchpoint_id`` tried to join ``clusters`` (the cluster
    of its strongest identifier first); ``reason`` is ``never_merge`` or ``limit:<type>``."""

    touchpoint_id: str
    clusters: tuple[int, int]
    reason: str


@dataclass(frozen=True)
class Resolution:
    """The partition of identifiers into clusters (one cluster = one person).

    ``clusters`` are in canonical order: by the first touchpoint (``occurred_at``, then
    id) that carries them, and within one touchpoint strongest identifier first. Shared
    identifiers are in no cluster; ``shared`` maps each to the clusters it was seen with
    and ``shared_reasons`` says why it is shared. ``attribution`` maps touchpoint ids to
    cluster indexes; a touchpoint with no identifier left (all blocked), or with only
    shared identifiers never seen with a cluster, is absent.
    """

    clusters: tuple[frozenset[Identifier], ...]
    shared: Mapping[Identifier, frozenset[int]]
    attribution: Mapping[str, int]
    blocked_merges: tuple[BlockedMerge, ...]
    shared_reasons: Mapping[Identifier, str]
    _index: Mapping[Identifier, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {i: n for n, cluster in enumerate(self.clusters) for i in cluster}
        object.__setattr__(self, "_index", index)

    def cluster_of(self, identifier: Identifier) -> int | None:
        """The index of the cluster holding ``identifier``; None if shared, blocked or unseen."""
        return self._index.get(identifier)


def resolve(
    evidence: Iterable[Evidence],
    rules: IdentityRules,
    *,
    shared: frozenset[Identifier] = frozenset(),
) -> Resolution:
    """Resolve a set of evidence into clusters; arrival order and duplicates do not matter.

    Touchpoints are taken in canonical order (``occurred_at``, then id); each joins its
    non-shared identifiers into the cluster of its strongest one unless a rule refuses.
    ``shared`` names identifiers known to be shared from evidence outside this set (the
    incremental path resolves one component at a time; sharing only ever grows).
    """
    touchpoints = canonical(evidence, rules)
    reasons = shared_identifiers(touchpoints, rules, shared)
    owns = [[i for i in tp.identifiers if i not in reasons] for tp in touchpoints]
    clusters = Clusters(rules)
    refused = [r for tp, own in zip(touchpoints, owns, strict=True)
               for r in _absorb(clusters, tp.id, own)]
    number = _numbered(owns, clusters)
    seen_with, first_seen = _sightings(touchpoints, owns, number, reasons)
    return Resolution(
        clusters=_grouped(number),
        shared={i: frozenset(seen_with.get(i, ())) for i in sorted(reasons)},
        attribution=_attribution(touchpoints, owns, number, first_seen),
        blocked_merges=tuple(dict.fromkeys(
            BlockedMerge(tp_id, (number[anchor], number[other]), reason)
            for tp_id, anchor, other, reason in refused)),
        shared_reasons=dict(sorted(reasons.items())),
    )


Refusal = tuple[str, Identifier, Identifier, str]  # touchpoint id, anchor, other, reason


def _absorb(clusters: Clusters, touchpoint_id: str, own: list[Identifier]) -> list[Refusal]:
    """Join a touchpoint's non-shared identifiers into the cluster of its strongest one."""
    for identifier in own:
        clusters.add(identifier)
    refused = []
    for other in own[1:]:
        reason = clusters.join(own[0], other)
        if reason is not None:
            refused.append((touchpoint_id, own[0], other, reason))
    return refused


def _numbered(owns: list[list[Identifier]], clusters: Clusters) -> dict[Identifier, int]:
    """Identifier -> cluster index, clusters numbered in canonical order."""
    roots: dict[Identifier, int] = {}
    number: dict[Identifier, int] = {}
    for own in owns:
        for identifier in own:
            if identifier not in number:
                root = clusters.find(identifier)
                number[identifier] = roots.setdefault(root, len(roots))
    return number


def _grouped(number: Mapping[Identifier, int]) -> tuple[frozenset[Identifier], ...]:
    members: list[list[Identifier]] = [[] for _ in set(number.values())]
    for identifier, index in number.items():
        members[index].append(identifier)
    return tuple(frozenset(group) for group in members)


def _sightings(
    touchpoints: tuple[Touchpoint, ...],
    owns: list[list[Identifier]],
    number: Mapping[Identifier, int],
    shared: Mapping[Identifier, str],
) -> tuple[dict[Identifier, set[int]], dict[Identifier, int]]:
    """Per shared identifier: the clusters seen with it, and the first one (canonically)."""
    seen_with: dict[Identifier, set[int]] = {}
    first_seen: dict[Identifier, int] = {}
    for touchpoint, own in zip(touchpoints, owns, strict=True):
        if not own or len(own) == len(touchpoint.identifiers):
            continue
        indexes = {number[i] for i in own}
        for identifier in touchpoint.identifiers:
            if identifier in shared:
                seen_with.setdefault(identifier, set()).update(indexes)
                first_seen.setdefault(identifier, number[own[0]])
    return seen_with, first_seen


def _attribution(
    touchpoints: tuple[Touchpoint, ...],
    owns: list[list[Identifier]],
    number: Mapping[Identifier, int],
    first_seen: Mapping[Identifier, int],
) -> dict[str, int]:
    """Strongest non-shared identifier's cluster; else where the strongest shared one
    was first seen with a cluster."""
    attribution: dict[str, int] = {}
    for touchpoint, own in zip(touchpoints, owns, strict=True):
        if own:
            attribution[touchpoint.id] = number[own[0]]
            continue
        seen = [first_seen[i] for i in touchpoint.identifiers if i in first_seen]
        if seen:
            attribution[touchpoint.id] = seen[0]
    return attribution
