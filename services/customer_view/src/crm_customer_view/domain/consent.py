"""Consent per (channel, purpose): the latest decision wins, and a merge never loosens it.

Within one profile, the decision with the latest ``occurred_at`` holds; at the same instant
``denied`` beats ``granted`` (then the larger evidence id, to be deterministic).

Merges (issue 4: "on a merge the most restrictive state wins"): at the moment two profiles
merge (the merge event's ``occurred_at``), each (channel, purpose) takes the stricter of
the two sides' states, ``denied`` over ``granted``, keeping that state's evidence.
Decisions after that moment apply to the merged profile as usual, so a customer who
grants again after the merge is heard. Decisions are placed by their ``occurred_at``, not
by arrival: a late decision lands where its time puts it.

So the merged record equals the one a single customer with both histories would have,
except that a ``granted`` from before the merge may read ``denied``: a merge can only make
consent stricter, never looser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from crm_customer_view.domain.facts import ConsentState

__all__ = ["ConsentDecision", "ConsentValue", "ProfileMerge", "consent_of"]


@dataclass(frozen=True)
class ConsentValue:
    """The state of one (channel, purpose) and the decision that is its evidence."""

    channel: str
    purpose: str
    state: ConsentState
    evidence_event_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class ConsentDecision:
    """A decision taken on ``customer_id`` (one of the merged profiles)."""

    customer_id: str
    value: ConsentValue


@dataclass(frozen=True)
class ProfileMerge:
    """``merged_away_id`` joined ``survivor_id`` at ``occurred_at``."""

    merged_away_id: str
    survivor_id: str
    occurred_at: datetime


_Slot = tuple[str, str]  # (channel, purpose)


def consent_of(
    decisions: Iterable[ConsentDecision], merges: Iterable[ProfileMerge], root: str
) -> tuple[ConsentValue, ...]:
    """The consent of the profile ``root``, into which ``merges`` folded the others, sorted
    by (channel, purpose)."""
    groups = _Groups()
    timeline: list[tuple[tuple[datetime, int, int, str, str, str, str], object]] = []
    for decision in decisions:
        value = decision.value
        key = (value.occurred_at, 0, _strictness(value), value.evidence_event_id,
               value.channel, value.purpose, decision.customer_id)
        timeline.append((key, decision))
    for merge in merges:
        key = (merge.occurred_at, 1, 0, merge.merged_away_id, "", "", merge.survivor_id)
        timeline.append((key, merge))
    for _, step in sorted(timeline, key=lambda item: item[0]):
        if isinstance(step, ConsentDecision):
            groups.decide(step)
        elif isinstance(step, ProfileMerge):
            groups.merge(step)
    states = groups.states_of(root)
    return tuple(states[slot] for slot in sorted(states))


def _strictness(value: ConsentValue) -> int:
    return 1 if value.state == "denied" else 0


def _stricter(first: ConsentValue, second: ConsentValue) -> ConsentValue:
    return max(first, second,
               key=lambda v: (_strictness(v), v.occurred_at, v.evidence_event_id))


class _Groups:
    """Profiles merged so far (union-find) and the consent each group holds."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._states: dict[str, dict[_Slot, ConsentValue]] = {}

    def _find(self, customer_id: str) -> str:
        while customer_id in self._parent:
            customer_id = self._parent[customer_id]
        return customer_id

    def decide(self, decision: ConsentDecision) -> None:
        value = decision.value
        group = self._states.setdefault(self._find(decision.customer_id), {})
        group[(value.channel, value.purpose)] = value

    def merge(self, merge: ProfileMerge) -> None:
        away, survivor = self._find(merge.merged_away_id), self._find(merge.survivor_id)
        if away == survivor:
            return
        self._parent[away] = survivor
        joined = self._states.setdefault(survivor, {})
        for slot, value in self._states.pop(away, {}).items():
            held = joined.get(slot)
            joined[slot] = value if held is None else _stricter(held, value)

    def states_of(self, customer_id: str) -> dict[_Slot, ConsentValue]:
        return self._states.get(self._find(customer_id), {})
