"""Which rebuild worker folds what, when each worker has read a share of the partitions.

Events are filed under index keys (customers, touchpoints). Events that share a key are
connected, and a customer's record needs at most the events of its connected component
(:func:`~crm_customer_view.domain.keys_to_load` never leaves it). A component whose keys
one worker alone holds is folded there. A component that crosses workers can only cross
through a key that both hold (a merged-away customer's key: its own events on one
partition, the merge on the survivor's), so the workers report their components around
those *shared* keys, and each such component is given to one worker, which the others
send its events to. Pure functions: the worker processes and the pipes are elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Assignment", "assign", "components", "held_before", "held_elsewhere"]


def held_elsewhere(held: Sequence[frozenset[str]]) -> list[frozenset[str]]:
    """For each worker, the members of its set that some other worker holds too."""
    return [mine & frozenset().union(*held[:n], *held[n + 1:])
            for n, mine in enumerate(held)]


def held_before(held: Sequence[frozenset[str]]) -> list[frozenset[str]]:
    """For each worker, the members of its set that a worker before it holds too (an
    event read twice is filed by the first worker that read it)."""
    return [mine & frozenset().union(*held[:n]) for n, mine in enumerate(held)]


def components(starts: Collection[str], events_by_key: Mapping[str, Collection[str]],
               keys_by_event: Mapping[str, Collection[str]]) -> list[frozenset[str]]:
    """The keys connected to each of ``starts`` by the events given (those filed under a
    key connect all of their keys), each component once."""
    found: list[frozenset[str]] = []
    covered: set[str] = set()
    for start in sorted(starts):
        if start not in covered:
            found.append(group := _component(start, events_by_key, keys_by_event))
            covered |= group
    return found


def _component(start: str, events_by_key: Mapping[str, Collection[str]],
               keys_by_event: Mapping[str, Collection[str]]) -> frozenset[str]:
    found, frontier = {start}, [start]
    while frontier:
        for event_id in events_by_key.get(frontier.pop(), ()):
            for key in keys_by_event[event_id]:
                if key not in found:
                    found.add(key)
                    frontier.append(key)
    return frozenset(found)


@dataclass(frozen=True)
class Assignment:
    """One worker's part in the components that cross workers."""

    exports: Mapping[int, frozenset[str]] = field(default_factory=dict)
    """Keys whose events this worker sends to another (by worker number)."""
    foreign: frozenset[str] = frozenset()
    """Keys of components another worker folds: this one folds none of their customers."""


def assign(groups: Sequence[Sequence[frozenset[str]]]) -> list[Assignment]:
    """Each worker's :class:`Assignment`, from ``groups[n]``: worker ``n``'s own components
    (as far as its events go) around the keys it shares. Groups that share a key are one
    component, which the first worker among those holding it folds."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]  # halve the path
            key = parent[key]
        return key

    for group in (g for worker in groups for g in worker):
        first = root(min(group))
        for key in group:
            parent[root(key)] = first
    folder: dict[str, int] = {}
    for n, worker in enumerate(groups):
        for group in worker:
            folder.setdefault(root(min(group)), n)
    assignments = []
    for n, worker in enumerate(groups):
        exports: dict[int, set[str]] = {}
        for group in worker:
            if (to := folder[root(min(group))]) != n:
                exports.setdefault(to, set()).update(group)
        assignments.append(Assignment({to: frozenset(keys) for to, keys in exports.items()},
                                      frozenset().union(*exports.values())))
    return assignments
