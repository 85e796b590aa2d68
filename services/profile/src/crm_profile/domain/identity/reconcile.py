"""The diff from the profiles the service holds to a new resolution of one component.

Matching: each profile's *home* is the target cluster holding most of its own identifiers
(those not brought in by profiles merged into it; ties: most identifiers overall, then the
earlier cluster). A cluster's *owner* is the oldest profile homed there, or the profile
merged away earlier that the cluster can restore (when it is older than every homed
profile), or a new profile. Homed profiles other than the owner merge into it (the older
survives); identifiers in another cluster than their profile's home move to that
cluster's owner (a wrong link or merge undone, with the reason); identifiers now shared
or blocked leave their profile.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from crm_profile.domain.identity._evidence import deduplicated
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
from crm_profile.domain.identity.resolution import Resolution
from crm_profile.domain.identity.state import CurrentIdentity, Profile, apply, restrict, root_of
from crm_profile.domain.identity.values import Evidence, Identifier

__all__ = ["follow_ups", "provenance", "reconcile"]


def reconcile(
    current: CurrentIdentity,
    target: Resolution,
    component: Sequence[Evidence],
    new_customer_id: Callable[[], str],
) -> tuple[Decision, ...]:
    """The decisions that turn ``current`` into ``target`` for the evidence of one component.

    ``current`` may be the whole state or the part around the component; only profiles
    holding an identifier of ``component`` are considered. ``new_customer_id`` is called
    once per new profile, in cluster order. Deterministic given its inputs; a consistent
    state yields no decisions.
    """
    evidence = deduplicated(component)
    touched = restrict(current, evidence)
    plan = _plan(touched, target, new_customer_id)
    structure = tuple(_Structure(touched, target, plan, evidence).decisions())
    after = apply(touched, structure)
    return (*structure, *follow_ups(touched, after, target, plan.owner, evidence))


def follow_ups(
    touched: CurrentIdentity,
    after: CurrentIdentity,
    target: Resolution,
    owner: Sequence[str],
    evidence: Sequence[Evidence],
) -> tuple[Decision, ...]:
    """What follows once the profiles hold the target's clusters: touchpoints attributed
    again, refused merges and shared identifiers' sightings not recorded yet.

    ``owner[c]`` holds target cluster ``c``; ``touched`` is the state around the component,
    ``after`` the same with the structural decisions (links, merges ...) applied;
    ``evidence`` is the component, deduplicated (see ``deduplicated``).
    """
    return (
        *_attributions(after, target, owner, evidence),
        *_blocked(touched, target, owner),
        *_shared(after, target, owner),
    )


@dataclass(frozen=True)
class _Plan:
    """Who holds each target cluster after the diff."""

    home: Mapping[str, int]  # customer id -> the cluster the profile stays with
    homed: Mapping[int, tuple[Profile, ...]]  # cluster -> profiles homed there, oldest first
    lineage: Mapping[str, str]  # merged-away id -> the live profile it is in
    restored: Mapping[int, str]  # cluster -> merged-away id that comes back to hold it
    owner: tuple[str, ...]  # cluster -> customer id
    created: frozenset[int]  # clusters that get a new profile


def _plan(
    touched: CurrentIdentity, target: Resolution, new_customer_id: Callable[[], str]
) -> _Plan:
    lineage = {cid: root_of(touched, cid) for cid in touched.merged_away}
    home = _homes(touched, target, lineage)
    homed: dict[int, list[Profile]] = {}
    for profile in sorted(touched.profiles.values(), key=_age):
        if profile.customer_id in home:
            homed.setdefault(home[profile.customer_id], []).append(profile)
    restored = _restorable(touched, target, home, homed, lineage)
    clusters = range(len(target.clusters))
    return _Plan(
        home=home,
        homed={c: tuple(profiles) for c, profiles in homed.items()},
        lineage=lineage,
        restored=restored,
        owner=tuple(_owner(c, restored, homed, new_customer_id) for c in clusters),
        created=frozenset(c for c in clusters if c not in restored and c not in homed),
    )


def _owner(
    cluster: int,
    restored: Mapping[int, str],
    homed: Mapping[int, list[Profile]],
    new_customer_id: Callable[[], str],
) -> str:
    if cluster in restored:
        return restored[cluster]
    if cluster in homed:
        return homed[cluster][0].customer_id
    return new_customer_id()


def _age(profile: Profile) -> tuple[int, str]:
    return profile.created_order, profile.customer_id


def _homes(
    touched: CurrentIdentity, target: Resolution, lineage: Mapping[str, str]
) -> dict[str, int]:
    brought: dict[str, set[Identifier]] = {}
    for cid, merged in touched.merged_away.items():
        brought.setdefault(lineage[cid], set()).update(merged.profile.identifiers)
    homes = {}
    for cid, profile in touched.profiles.items():
        home = _home(profile, profile.identifiers - brought.get(cid, set()), target)
        if home is not None:
            homes[cid] = home
    return homes


def _home(profile: Profile, own: frozenset[Identifier], target: Resolution) -> int | None:
    owned: Counter[int] = Counter()
    held: Counter[int] = Counter()
    for identifier in profile.identifiers:
        cluster = target.cluster_of(identifier)
        if cluster is not None:
            held[cluster] += 1
            owned[cluster] += identifier in own
    return min(held, key=lambda c: (-owned[c], -held[c], c)) if held else None


def _restorable(
    touched: CurrentIdentity,
    target: Resolution,
    home: Mapping[str, int],
    homed: Mapping[int, list[Profile]],
    lineage: Mapping[str, str],
) -> dict[int, str]:
    """Clusters that profiles merged away earlier hold again: per cluster the one keeping
    most of it, each at most once."""
    restored: dict[int, str] = {}
    for _, _, cluster, cid in sorted(_restorations(touched, target, home, homed, lineage)):
        if cluster not in restored and cid not in restored.values():
            restored[cluster] = cid
    return restored


def _restorations(
    touched: CurrentIdentity,
    target: Resolution,
    home: Mapping[str, int],
    homed: Mapping[int, list[Profile]],
    lineage: Mapping[str, str],
) -> Iterator[tuple[int, int, int, str]]:
    """(-identifiers kept, age, cluster, merged-away id) for every cluster outside its
    live profile's home that a merged-away profile could come back to hold (being older
    than every profile homed there)."""
    for cid, merged in touched.merged_away.items():
        root = lineage[cid]
        kept = merged.profile.identifiers & touched.profiles[root].identifiers
        for cluster, n in Counter(target.cluster_of(i) for i in kept).items():
            if cluster is None or home.get(root) == cluster:
                continue
            rivals = homed.get(cluster, [])
            if not rivals or merged.profile.created_order < rivals[0].created_order:
                yield -n, merged.profile.created_order, cluster, cid


class _Structure:
    """Unlinks, unmerges, creations, merges and links, in that order."""

    def __init__(
        self,
        touched: CurrentIdentity,
        target: Resolution,
        plan: _Plan,
        evidence: list[Evidence],
    ) -> None:
        self._touched, self._target, self._plan, self._evidence = touched, target, plan, evidence
        self._best = provenance(evidence)
        self._held = frozenset().union(*(p.identifiers for p in touched.profiles.values()))

    def decisions(self) -> Iterator[Decision]:
        yield from self._unlinks()
        yield from self._unmerges()
        yield from self._creations()
        yield from self._merges()
        yield from self._links()

    def _unlinks(self) -> Iterator[Decision]:
        for profile in sorted(self._touched.profiles.values(), key=_age):
            for identifier in sorted(profile.identifiers):
                reason = self._leaving(profile, identifier)
                if reason is not None:
                    yield IdentifierUnlinked(profile.customer_id, identifier, reason)

    def _leaving(self, profile: Profile, identifier: Identifier) -> str | None:
        """Why ``identifier`` must leave ``profile`` now; None if it stays or an unmerge
        carries it."""
        cluster = self._target.cluster_of(identifier)
        if cluster is None:
            return self._gone(identifier)
        if cluster == self._plan.home.get(profile.customer_id):
            return None
        restored = self._plan.restored.get(cluster)
        if restored is not None and self._plan.lineage[restored] == profile.customer_id:
            return None
        return self._tear(profile)

    def _gone(self, identifier: Identifier) -> str:
        if identifier in self._target.shared:
            return f"shared_identifier:{identifier}"
        if any(identifier in item.identifiers for item in self._evidence):
            return f"blocked_value:{identifier}"
        return "reresolved"

    def _tear(self, profile: Profile) -> str:
        """Why ``profile`` no longer holds one person: the strongest cause we can name."""
        gone = sorted(i for i in profile.identifiers if self._target.cluster_of(i) is None)
        if gone:
            return self._gone(gone[0])
        home = self._plan.home.get(profile.customer_id)
        spanned = {self._target.cluster_of(i) for i in profile.identifiers}
        for blocked in self._target.blocked_merges:
            if home in blocked.clusters and spanned.issuperset(blocked.clusters):
                return blocked.reason
        return "reresolved"

    def _unmerges(self) -> Iterator[Decision]:
        for cluster, restored in sorted(self._plan.restored.items()):
            root = self._touched.profiles[self._plan.lineage[restored]]
            moving = self._target.clusters[cluster] & root.identifiers
            yield ProfileUnmerged(root.customer_id, restored, moving, self._tear(root))

    def _creations(self) -> Iterator[Decision]:
        for cluster in sorted(self._plan.created):
            members = self._target.clusters[cluster]
            yield ProfileCreated(self._plan.owner[cluster], members)
            yield from self._linked(cluster, members, "new_profile")

    def _merges(self) -> Iterator[Decision]:
        for cluster, members in enumerate(self._target.clusters):
            side = self._initial(cluster)
            for profile in self._plan.homed.get(cluster, ()):
                if profile.customer_id == self._plan.owner[cluster]:
                    continue
                joining = profile.identifiers & members
                bridge = _bridge(self._evidence, side, joining, members)
                yield ProfilesMerged(
                    self._plan.owner[cluster], profile.customer_id, bridge.touchpoint_id,
                    bridge.identifiers & members, "bridging_touchpoint",
                )
                side |= joining

    def _initial(self, cluster: int) -> frozenset[Identifier]:
        """What the owner of ``cluster`` holds of it before any merge into it."""
        owner = self._plan.owner[cluster]
        members = self._target.clusters[cluster]
        if cluster in self._plan.restored:
            return members & self._touched.profiles[self._plan.lineage[owner]].identifiers
        if cluster in self._plan.created:
            return members
        return members & self._touched.profiles[owner].identifiers

    def _links(self) -> Iterator[Decision]:
        for cluster, members in enumerate(self._target.clusters):
            held = self._initial(cluster).union(
                *(p.identifiers for p in self._plan.homed.get(cluster, ())))
            yield from self._linked(cluster, members - held, "seen_together")

    def _linked(
        self, cluster: int, identifiers: Iterable[Identifier], rule: str
    ) -> Iterator[Decision]:
        for identifier in sorted(identifiers):
            best = self._best[identifier]
            yield IdentifierLinked(
                self._plan.owner[cluster], identifier, best.touchpoint_id,
                "reresolved" if identifier in self._held else rule, best.assurance,
            )


def provenance(evidence: Iterable[Evidence]) -> dict[Identifier, Evidence]:
    """Per identifier, the touchpoint that shows it best: the first verified one, else the
    first one (canonical order)."""
    best: dict[Identifier, Evidence] = {}
    for item in evidence:
        for identifier in item.identifiers:
            kept = best.get(identifier)
            if kept is None or (item.assurance == "verified" and kept.assurance != "verified"):
                best[identifier] = item
    return best


def _bridge(
    evidence: list[Evidence],
    side: frozenset[Identifier],
    joining: frozenset[Identifier],
    members: frozenset[Identifier],
) -> Evidence:
    """The first touchpoint carrying identifiers of both sides (else one that joins
    ``joining`` to anything else of the cluster, else the first carrying it)."""
    touching = [item for item in evidence if not joining.isdisjoint(item.identifiers)]
    for item in touching:
        if not side.isdisjoint(item.identifiers):
            return item
    joins = (item for item in touching if not (item.identifiers & members) <= joining)
    return next(joins, touching[0])


def _attributions(
    after: CurrentIdentity, target: Resolution, owner: Sequence[str],
    evidence: Sequence[Evidence],
) -> Iterator[Decision]:
    for item in evidence:
        cluster = target.attribution.get(item.touchpoint_id)
        was = after.attribution.get(item.touchpoint_id)
        if cluster is None and was is not None:
            yield TouchpointUnattributed(was, item.touchpoint_id, "no_profile_seen")
        elif cluster is not None and was != owner[cluster]:
            yield TouchpointAttributed(owner[cluster], item.touchpoint_id)


def _blocked(
    touched: CurrentIdentity, target: Resolution, owner: Sequence[str]
) -> Iterator[Decision]:
    recorded = set(touched.blocked)
    for blocked in target.blocked_merges:
        owners = tuple(owner[c] for c in blocked.clusters)
        decision = MergeBlocked(owners, blocked.touchpoint_id, blocked.reason)
        if decision not in recorded:
            recorded.add(decision)
            yield decision


def _shared(
    after: CurrentIdentity, target: Resolution, owner: Sequence[str]
) -> Iterator[Decision]:
    for identifier, clusters in target.shared.items():
        owners = frozenset(owner[c] for c in clusters)
        known = after.shared.get(identifier)
        if known is None or not owners <= known:
            reason = target.shared_reasons[identifier]
            yield IdentifierMarkedShared(identifier, tuple(sorted(owners)), reason)
