"""The fold: one customer's record and timeline from a set of facts.

What a touchpoint says belongs to whoever holds the touchpoint now. The profile service
publishes, for each touchpoint it attributes, the touchpoint itself (carrying its traits
and, for a ``consent`` touchpoint, its decision) *and*, for a ``consent`` touchpoint, a
``ConsentChanged`` (evidence: the touchpoint's id); earlier versions also published one
``TraitObserved`` per trait (causation: the touchpoint's id), which history keeps. Those
observations say nothing the touchpoint does not, but they are filed under the customer
who held the touchpoint then, and stay there when a split, a re-resolution or an
unattribution moves the touchpoint on. So the fold reads what a touchpoint said from the
touchpoints the lineage holds *now* (``_Lineage.attributed``), and skips a trait or
consent fact caused by a touchpoint of the lineage's own attribution history
(:attr:`_Lineage.said_by`). That rule needs no bookkeeping of moves, gives the new owner
the touchpoint's traits whether or not the profile service says them again, counts each
statement once (where the alternative, "observations of touchpoints held now", counts it
twice), and keeps the record a function of the set of facts: the attribution of a
touchpoint travels in the same transaction as its observations and is filed under the
same customer, so :func:`keys_to_load` brings both. It reads no meaning into the shape
of a causation id: an observation whose touchpoint the lineage never held (its
attribution not in the set) still counts.

Observations no touchpoint caused (back-office edits and consent set through the API:
causation ``api-key:<id>``) count as observed, and so do facts stored before the view
kept the causation (``EventMeta.causation_id == ""``) until ``rebuild --replace``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from crm_customer_view.domain.config import ProjectionConfig
from crm_customer_view.domain.consent import (
    ConsentDecision,
    ConsentValue,
    ProfileMerge,
    consent_of,
)
from crm_customer_view.domain.erasure import Erasure
from crm_customer_view.domain.facts import (
    ConsentFact,
    CreationFact,
    ErasureFact,
    Fact,
    SharedFact,
    TouchpointFact,
    TraitFact,
    UnattributionFact,
)
from crm_customer_view.domain.metrics import (
    channel_summaries,
    clv_estimate,
    open_complaints,
    order_metrics,
    rfm_scores,
    satisfaction,
)
from crm_customer_view.domain.record import (
    CustomerRecord,
    Freshness,
    IdentifierView,
    Redirect,
    TraitValue,
)
from crm_customer_view.domain.structure import Structure, replay
from crm_customer_view.domain.timeline import TimelineEntry
from crm_customer_view.domain.values import ConsentProperties, Identifier, Touchpoint

__all__ = ["record_of", "timeline"]

_DEFAULT_CONFIG = ProjectionConfig()


def record_of(
    customer_id: str, facts: Iterable[Fact], config: ProjectionConfig = _DEFAULT_CONFIG
) -> CustomerRecord | Redirect:
    """The record of ``customer_id``, or where it was merged into.

    ``facts`` must include everything :func:`keys_to_load` names for the customer; other
    facts are ignored. The result depends on the set of facts only: not on their order,
    not on duplicates, not on the clock. An id no fact names gets an empty record
    (``freshness.version == 0``).
    """
    lineage = _Lineage.of(customer_id, facts)
    if lineage.root != customer_id:
        return Redirect(customer_id, lineage.root)
    touchpoints = [fact.touchpoint for fact in lineage.attributed]
    reference = config.as_of or (touchpoints[-1].occurred_at if touchpoints else None)
    orders = order_metrics(touchpoints, config)
    return CustomerRecord(
        customer_id=customer_id,
        merged_ids=tuple(sorted(lineage.members - {customer_id})),
        erased=lineage.erased,
        identifiers=lineage.identifiers(touchpoints),
        traits=lineage.traits(touchpoints),
        consent=lineage.consent(),
        channels=channel_summaries(touchpoints),
        orders=orders,
        rfm=rfm_scores(orders, reference, config.rfm),
        clv=clv_estimate(touchpoints, orders, reference, config.clv),
        satisfaction=satisfaction(touchpoints),
        open_complaints=open_complaints(touchpoints),
        freshness=Freshness(len(lineage.facts), _latest(lineage.facts)),
    )


def timeline(
    customer_id: str,
    facts: Iterable[Fact],
    channel: str | None = None,
    type: str | None = None,  # the API's filter name, shadowing the builtin here only
) -> list[TimelineEntry]:
    """Every interaction of the record ``customer_id`` lives in (its survivor's, if it was
    merged away), newest first: ``occurred_at`` descending, then event id descending.
    ``channel`` and ``type`` filter."""
    lineage = _Lineage.of(customer_id, facts)
    entries = [
        TimelineEntry(fact.touchpoint, fact.customer_id)
        for fact in lineage.attributed
        if (channel is None or fact.touchpoint.channel == channel)
        and (type is None or fact.touchpoint.type == type)
    ]
    return entries[::-1]


@dataclass(frozen=True)
class _Lineage:
    """The live profile an id lives in, the ids folded into it, and their facts."""

    root: str
    members: frozenset[str]
    erased: bool
    structure: Structure
    facts: tuple[Fact, ...]  # every fact naming a member, scrubbed of erased PII
    attributed: tuple[TouchpointFact, ...]  # touchpoints now owned by a member, oldest first
    said_by: frozenset[str]  # touchpoints ever (un)attributed to a member: they speak for
    # themselves, so observations they caused are not facts of their own (module docstring)

    @staticmethod
    def of(customer_id: str, facts: Iterable[Fact]) -> _Lineage:
        unique = _deduplicated(facts)
        structure = replay(unique)
        erasure = Erasure.of(structure, unique)
        if erasure is not None:
            unique = tuple(erasure.scrub(fact) for fact in unique)
            structure = replace(replay(unique), erased=structure.erased)
        root = structure.root(customer_id)
        members = structure.members(root)
        attributed = sorted(
            (f for f in structure.attributions.values() if f.customer_id in members),
            key=lambda f: (f.touchpoint.occurred_at, f.touchpoint.event_id),
        )
        own = tuple(f for f in unique if not members.isdisjoint(f.customers))
        return _Lineage(root, members, root in structure.erased, structure, own,
                        tuple(attributed), _touchpoints_of(own))

    def identifiers(self, touchpoints: Sequence[Touchpoint]) -> tuple[IdentifierView, ...]:
        """Linked identifiers and shared ones, first and last seen in links and touchpoints."""
        seen: dict[Identifier, list[datetime]] = {}
        for identifier, (first, last) in self.structure.identifiers.get(self.root, {}).items():
            seen.setdefault(identifier, []).extend((first, last))
        shared = set()
        for fact in self.facts:
            if isinstance(fact, SharedFact) and fact.identifier.value:
                shared.add(fact.identifier)
                seen.setdefault(fact.identifier, []).append(fact.meta.occurred_at)
        for touchpoint in touchpoints:
            for identifier in touchpoint.identifiers:
                if identifier in seen:
                    seen[identifier].append(touchpoint.occurred_at)
        return tuple(
            IdentifierView(i.type, i.value, min(times), max(times), i in shared)
            for i, times in sorted(seen.items())
        )

    def traits(self, touchpoints: Sequence[Touchpoint]) -> tuple[TraitValue, ...]:
        """Per trait, the latest observation (ties: larger event id, then source, value):
        the traits of the touchpoints held now, and trait facts no touchpoint caused."""
        candidates = [
            TraitValue(f.name, f.value, f.source, f.occurred_at, f.meta.event_id)
            for f in self.facts if isinstance(f, TraitFact) and f.value
            and f.meta.causation_id not in self.said_by
        ]
        candidates += [
            TraitValue(name, value, t.channel, t.occurred_at, t.event_id)
            for t in touchpoints for name, value in t.traits
        ]
        winners: dict[str, TraitValue] = {}
        for candidate in candidates:
            held = winners.get(candidate.name)
            if held is None or _trait_rank(candidate) > _trait_rank(held):
                winners[candidate.name] = candidate
        return tuple(winners[name] for name in sorted(winners))

    def consent(self) -> tuple[ConsentValue, ...]:
        """The decisions of the consent touchpoints held now, and consent facts whose
        evidence is no touchpoint of the lineage's history (see ``consent``)."""
        decisions = [
            ConsentDecision(f.customer_id, ConsentValue(
                f.channel, f.purpose, f.state, f.evidence_event_id, f.occurred_at))
            for f in self.facts if isinstance(f, ConsentFact)
            and f.evidence_event_id not in self.said_by
        ]
        for fact in self.attributed:
            properties = fact.touchpoint.properties
            if isinstance(properties, ConsentProperties):
                decisions.append(ConsentDecision(fact.customer_id, ConsentValue(
                    properties.channel, properties.purpose,
                    "granted" if properties.granted else "denied",
                    fact.touchpoint.event_id, fact.touchpoint.occurred_at)))
        merges = [
            ProfileMerge(m, self.structure.parent[m], self.structure.merged_at[m])
            for m in self.members if m != self.root
        ]
        return consent_of(decisions, merges, self.root)


def _deduplicated(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """One fact per key. Two different facts under one key (a producer bug) resolve to the
    same one whatever their order."""
    kept: dict[str, Fact] = {}
    for fact in facts:
        held = kept.get(fact.key)
        if held is None or (held != fact and repr(fact) < repr(held)):
            kept[fact.key] = fact
    return tuple(kept.values())


def _touchpoints_of(facts: Iterable[Fact]) -> frozenset[str]:
    return frozenset(
        {f.touchpoint.event_id for f in facts if isinstance(f, TouchpointFact)}
        | {f.touchpoint_event_id for f in facts if isinstance(f, UnattributionFact)})


def _trait_rank(trait: TraitValue) -> tuple[datetime, str, str, str]:
    return trait.occurred_at, trait.event_id, trait.source, trait.value


def _latest(facts: Iterable[Fact]) -> datetime | None:
    return max((_time_of(fact) for fact in facts), default=None)


def _time_of(fact: Fact) -> datetime:
    match fact:
        case TouchpointFact():
            return fact.touchpoint.occurred_at
        case TraitFact() | ConsentFact() | CreationFact():
            return fact.occurred_at
        case ErasureFact():
            return fact.erased_at
    return fact.meta.occurred_at
