"""The profile's traits and consent, folded from its events (pure, order-independent).

Traits: per name, the value with the latest ``occurred_at`` wins; ties are broken by
the event id, so a late call-center event never overwrites a newer web update and
the result does not depend on arrival order.

Consent per (channel, purpose): within one profile the latest ``occurred_at`` wins
(ties: denied beats granted). When profiles merge, each side's own latest state is
taken and the most restrictive wins (denied beats granted); a consent given after
the merge (a later ``occurred_at``) applies on top. Every state keeps its evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = ["ConsentFact", "ConsentState", "ProfileView", "TraitFact", "TraitValue", "fold"]


@dataclass(frozen=True)
class TraitFact:
    name: str
    value: str
    source: str
    occurred_at: datetime
    event_id: str


@dataclass(frozen=True)
class ConsentFact:
    channel: str
    purpose: str
    granted: bool
    evidence_event_id: str
    occurred_at: datetime
    side: str  # the profile the fact was recorded on (before any merge)
    evidence: str = ""  # how it was obtained, when not from a touchpoint


@dataclass(frozen=True)
class TraitValue:
    value: str
    source: str
    occurred_at: datetime


@dataclass(frozen=True)
class ConsentState:
    granted: bool
    evidence_event_id: str
    occurred_at: datetime
    evidence: str = ""


@dataclass(frozen=True)
class ProfileView:
    traits: Mapping[str, TraitValue]
    consent: Mapping[tuple[str, str], ConsentState]


def fold(traits: Iterable[TraitFact], consents: Iterable[ConsentFact],
         merged_at: Mapping[str, datetime] | None = None) -> ProfileView:
    """The profile from its facts; ``merged_at`` says when each merged-away side joined."""
    latest: dict[str, TraitFact] = {}
    for fact in traits:
        held = latest.get(fact.name)
        if held is None or (fact.occurred_at, fact.event_id) > (held.occurred_at, held.event_id):
            latest[fact.name] = fact
    return ProfileView(
        traits={n: TraitValue(f.value, f.source, f.occurred_at) for n, f in sorted(latest.items())},
        consent=_consent(list(consents), merged_at or {}),
    )


def _consent(facts: list[ConsentFact],
             merged_at: Mapping[str, datetime]) -> dict[tuple[str, str], ConsentState]:
    result: dict[tuple[str, str], ConsentState] = {}
    for key in sorted({(f.channel, f.purpose) for f in facts}):
        mine = [f for f in facts if (f.channel, f.purpose) == key]
        merge_time = max(merged_at.values(), default=None)
        before = [f for f in mine if merge_time is None or f.occurred_at <= merge_time]
        after = [f for f in mine if merge_time is not None and f.occurred_at > merge_time]
        sides = {f.side for f in before}
        per_side = [_latest([f for f in before if f.side == side]) for side in sorted(sides)]
        # Most restrictive of the sides' own latest states: a denial anywhere stands.
        state = min(per_side, key=lambda f: (f.granted, -f.occurred_at.timestamp()),
                    default=None)
        if after:
            state = _latest(after)
        if state is not None:
            result[key] = ConsentState(state.granted, state.evidence_event_id, state.occurred_at,
                                       state.evidence)
    return result


def _latest(facts: list[ConsentFact]) -> ConsentFact:
    return max(facts, key=lambda f: (f.occurred_at, not f.granted, f.evidence_event_id))
