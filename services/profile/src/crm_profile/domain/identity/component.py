"""The affected component: the evidence one new touchpoint makes worth resolving again.

The touchpoints reachable from the new one through identifiers that are not shared (an
identifier shared both before and after the new evidence is not followed; one that just
became shared is, because the clusters it used to bridge must be re-resolved). Sharing only
grows, so "shared before and after" is "shared before".

Two additions keep the incremental result equal to resolving everything at once:

- A touchpoint that carries only shared identifiers goes where its strongest shared
  identifier was first seen with a cluster (its *anchor* touchpoint). Such a touchpoint
  joins the component when its anchor, before or after the new evidence, is in it.
- For every such touchpoint in the component, the component of its anchor joins too, so
  that resolving the component finds the same anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain

from crm_profile.domain.identity._evidence import Touchpoint, canonical, company, excess
from crm_profile.domain.identity.values import Evidence, Identifier, IdentityRules

__all__ = ["affected_component", "identifiers_to_load"]


def affected_component(
    new: Evidence,
    known: Iterable[Evidence],
    rules: IdentityRules,
    shared_before: frozenset[Identifier],
) -> frozenset[str]:
    """The ids of the touchpoints to resolve again now that ``new`` arrived (``new`` included).

    ``known`` is the evidence recorded so far, or the part of it that
    :func:`identifiers_to_load` says is enough; ``shared_before`` the identifiers shared
    before ``new``.
    """
    return frozenset(_component(_World(new, known, rules), shared_before))


def identifiers_to_load(
    new: Evidence,
    known: Iterable[Evidence],
    rules: IdentityRules,
    shared_before: frozenset[Identifier],
    loaded: frozenset[Identifier],
) -> frozenset[Identifier]:
    """What a service holding only part of the evidence must load next: the identifiers
    whose touchpoints the component depends on, minus ``loaded`` (those whose touchpoints
    are all in ``known`` already). Load every touchpoint carrying them and ask again;
    once this is empty, ``known`` is enough for :func:`affected_component`.
    """
    world = _World(new, known, rules)
    _component(world, shared_before)
    return frozenset(world.consulted - loaded)


def _component(world: _World, shared_before: frozenset[Identifier]) -> set[str]:
    shared_after = shared_before | world.newly_shared(shared_before)

    def follow(identifier: Identifier) -> bool:
        return identifier not in shared_before

    found = world.reach([world.new.id], follow)
    found |= world.satellites(found, shared_before, shared_after)
    return world.with_anchors(found, shared_after, follow)


class _World:
    """All evidence, indexed by identifier, in canonical order."""

    def __init__(self, new: Evidence, known: Iterable[Evidence], rules: IdentityRules) -> None:
        evidence = list(known)
        repeated = any(item.touchpoint_id == new.touchpoint_id for item in evidence)
        self._rules = rules
        self._touchpoints = {tp.id: tp for tp in canonical(chain(evidence, [new]), rules)}
        self._index: dict[Identifier, list[Touchpoint]] = {}
        for touchpoint in self._touchpoints.values():
            for identifier in touchpoint.identifiers:
                self._index.setdefault(identifier, []).append(touchpoint)
        self.new = self._touchpoints[new.touchpoint_id]
        self._before_without = None if repeated else self.new.id
        self.consulted: set[Identifier] = set()

    def carrying(self, identifier: Identifier) -> list[Touchpoint]:
        """The touchpoints carrying ``identifier``, in canonical order."""
        self.consulted.add(identifier)
        return self._index.get(identifier, [])

    def newly_shared(self, shared_before: frozenset[Identifier]) -> frozenset[Identifier]:
        """The identifiers of the new touchpoint that it makes shared."""
        return frozenset(
            identifier for identifier in self.new.identifiers
            if identifier not in shared_before
            and excess(identifier, self._company(identifier), self._rules) is not None
        )

    def _company(self, identifier: Identifier) -> set[Identifier]:
        return company(self.carrying(identifier))

    def reach(self, start: Iterable[str], follow: Callable[[Identifier], bool]) -> set[str]:
        """The touchpoints reachable from ``start`` through identifiers worth following."""
        found = set(start)
        queue = list(found)
        followed: set[Identifier] = set()
        while queue:
            for identifier in self._touchpoints[queue.pop()].identifiers:
                if identifier in followed or not follow(identifier):
                    continue
                followed.add(identifier)
                more = [tp.id for tp in self.carrying(identifier) if tp.id not in found]
                found.update(more)
                queue.extend(more)
        return found

    def satellites(
        self, found: set[str], before: frozenset[Identifier], after: frozenset[Identifier]
    ) -> set[str]:
        """Only-shared touchpoints whose anchor, before or after, is in ``found``."""
        anchors = (_Anchors(self.carrying, before, self._before_without),
                   _Anchors(self.carrying, after, None))
        shared_here = {i for tp in found for i in self._touchpoints[tp].identifiers if i in after}
        satellites: set[str] = set()
        for identifier in sorted(shared_here):
            for touchpoint in self.carrying(identifier):
                if touchpoint.id in found or touchpoint.id in satellites:
                    continue
                if _only_shared(touchpoint, after) and any(
                    anchor.of(touchpoint) in found for anchor in anchors
                ):
                    satellites.add(touchpoint.id)
        return satellites

    def with_anchors(
        self, found: set[str], after: frozenset[Identifier], follow: Callable[[Identifier], bool]
    ) -> set[str]:
        """``found`` with the component of every only-shared touchpoint's anchor."""
        anchors = _Anchors(self.carrying, after, None)
        found = set(found)
        queue = [tp for tp in found if _only_shared(self._touchpoints[tp], after)]
        while queue:
            anchor = anchors.of(self._touchpoints[queue.pop()])
            if anchor is None or anchor in found:
                continue
            more = self.reach([anchor], follow) - found
            found |= more
            queue.extend(tp for tp in more if _only_shared(self._touchpoints[tp], after))
        return found


class _Anchors:
    """Where only-shared touchpoints go, for one set of shared identifiers."""

    def __init__(
        self,
        carrying: Callable[[Identifier], list[Touchpoint]],
        shared: frozenset[Identifier],
        without: str | None,
    ) -> None:
        self._carrying, self._shared, self._without = carrying, shared, without
        self._first: dict[Identifier, str | None] = {}

    def of(self, touchpoint: Touchpoint) -> str | None:
        """The first touchpoint with a cluster seen with the strongest shared identifier
        of ``touchpoint`` that has one."""
        for identifier in touchpoint.identifiers:
            first = self._first_with_cluster(identifier)
            if first is not None:
                return first
        return None

    def _first_with_cluster(self, identifier: Identifier) -> str | None:
        if identifier not in self._first:
            self._first[identifier] = next(
                (tp.id for tp in self._carrying(identifier)
                 if tp.id != self._without and not _only_shared(tp, self._shared)),
                None,
            )
        return self._first[identifier]


def _only_shared(touchpoint: Touchpoint, shared: frozenset[Identifier]) -> bool:
    return all(identifier in shared for identifier in touchpoint.identifiers)
