"""Union-find over identifiers that refuses unions a rule forbids (private).

A union is refused when the joined cluster would break a never-merge pair or exceed a
per-type limit. Clusters only grow, so a refused pair stays refused: its two sides never
end up in one cluster later, whichever touchpoint tries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crm_profile.domain.identity._evidence import strength_key
from crm_profile.domain.identity.values import (
    Identifier,
    IdentityRules,
    NeverMerge,
    identifier_type,
)

__all__ = ["Clusters"]

Side = tuple[int, int]  # (index of the never-merge pair, 0 for left / 1 for right)
_NO_SIDES: frozenset[Side] = frozenset()


class Clusters:
    """Disjoint clusters of identifiers with, per cluster, its type counts and its sides."""

    def __init__(self, rules: IdentityRules) -> None:
        self._limits = rules.limits
        self._type_key = strength_key(rules.priority)
        self._side_of = _sides(rules.never_merge)
        self._parent: dict[Identifier, Identifier] = {}
        self._counts: dict[Identifier, dict[str, int]] = {}
        self._sides: dict[Identifier, frozenset[Side]] = {}

    def add(self, identifier: Identifier) -> None:
        """Make ``identifier`` a cluster of its own unless it is already in one."""
        if identifier in self._parent:
            return
        self._parent[identifier] = identifier
        type_ = identifier_type(identifier)
        self._counts[identifier] = {type_: 1} if type_ in self._limits else {}
        self._sides[identifier] = self._side_of.get(identifier, _NO_SIDES)

    def find(self, identifier: Identifier) -> Identifier:
        """The representative of the cluster holding ``identifier`` (which must be added)."""
        parent = self._parent
        while (up := parent[identifier]) != identifier:
            parent[identifier] = parent[up]
            identifier = up
        return identifier

    def join(self, anchor: Identifier, other: Identifier) -> str | None:
        """Join the clusters of both; return the refusal reason instead if a rule forbids it."""
        a, b = self.find(anchor), self.find(other)
        if a == b:
            return None
        reason = self._refusal(a, b)
        if reason is None:
            self._union(a, b)
        return reason

    def _refusal(self, a: Identifier, b: Identifier) -> str | None:
        sides_a, sides_b = self._sides[a], self._sides[b]
        if sides_a and sides_b and any((pair, 1 - side) in sides_b for pair, side in sides_a):
            return "never_merge"
        counts_a, counts_b = self._counts[a], self._counts[b]
        limits = self._limits
        exceeded = [t for t, n in counts_b.items() if n + counts_a.get(t, 0) > limits[t]]
        return f"limit:{min(exceeded, key=self._type_key)}" if exceeded else None

    def _union(self, a: Identifier, b: Identifier) -> None:
        self._parent[b] = a
        counts = self._counts[a]
        self._counts[a] = {t: counts.get(t, 0) + self._counts[b].get(t, 0)
                           for t in counts.keys() | self._counts[b].keys()}
        self._sides[a] = self._sides[a] | self._sides[b]
        del self._counts[b], self._sides[b]


def _sides(pairs: Iterable[NeverMerge]) -> Mapping[Identifier, frozenset[Side]]:
    sides: dict[Identifier, set[Side]] = {}
    for n, pair in enumerate(pairs):
        for side, group in enumerate((pair.left, pair.right)):
            for identifier in group:
                sides.setdefault(identifier, set()).add((n, side))
    return {identifier: frozenset(found) for identifier, found in sides.items()}
