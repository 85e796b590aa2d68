"""Evidence in canonical form, and the facts every resolution derives from it first.

Private to the identity package: the canonical order of touchpoints, the strength order of
identifiers, and which identifiers are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from crm_profile.domain.identity.values import Evidence, Identifier, IdentityRules, identifier_type

__all__ = [
    "Touchpoint",
    "canonical",
    "company",
    "deduplicated",
    "excess",
    "shared_identifiers",
    "strength_key",
    "within_limits",
]

StrengthKey = Callable[[str], tuple[int, str]]


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """One piece of evidence as resolution sees it: blocked values gone, strongest first."""

    id: str
    identifiers: tuple[Identifier, ...]
    assurance: str


def strength_key(priority: tuple[str, ...]) -> StrengthKey:
    """Sort key of identifiers (or of bare types), strongest first; unlisted types last."""
    rank = {type_: n for n, type_ in enumerate(priority)}
    last = len(priority)
    return lambda identifier: (rank.get(identifier.partition(":")[0], last), identifier)


def deduplicated(evidence: Iterable[Evidence]) -> list[Evidence]:
    """One evidence per touchpoint id, in canonical order (``occurred_at``, then id).

    Duplicates with different content keep the smallest, so the choice is order-free.
    """
    chosen: dict[str, Evidence] = {}
    for item in evidence:
        kept = chosen.get(item.touchpoint_id)
        if kept is None or _content(item) < _content(kept):
            chosen[item.touchpoint_id] = item
    return sorted(chosen.values(), key=lambda item: (item.occurred_at, item.touchpoint_id))


def canonical(evidence: Iterable[Evidence], rules: IdentityRules) -> tuple[Touchpoint, ...]:
    """The set of evidence, deduplicated, in canonical order, without blocked values."""
    key = strength_key(rules.priority)
    blocked = rules.blocked
    return tuple(
        Touchpoint(
            item.touchpoint_id,
            tuple(sorted(item.identifiers - blocked if blocked else item.identifiers, key=key)),
            item.assurance,
        )
        for item in deduplicated(evidence)
    )


def shared_identifiers(
    touchpoints: Iterable[Touchpoint], rules: IdentityRules, known: frozenset[Identifier]
) -> dict[Identifier, str]:
    """Shared identifiers seen in ``touchpoints`` with the reason each one is shared.

    Shared: seen together with more distinct values of a limited type than one person may
    hold (``seen_with_many:<type>``), or already known to be shared (``known_shared``).
    """
    touchpoints = tuple(touchpoints)
    reasons = {
        identifier: "known_shared"
        for touchpoint in touchpoints for identifier in touchpoint.identifiers
        if identifier in known
    } if known else {}
    neighbours = _neighbours(touchpoints)
    types = {identifier: identifier.partition(":")[0] for identifier in neighbours}
    for identifier, company_ in neighbours.items():
        reason = _excess(identifier, company_, types, rules)
        if reason is not None:
            reasons[identifier] = reason
    return reasons


def within_limits(identifiers: Iterable[Identifier], rules: IdentityRules) -> bool:
    """Whether one profile may hold all of ``identifiers``: no more of a type than its
    limit (a plain count: every touchpoint's shortcut asks this)."""
    limits = rules.limits
    counts: dict[str, int] = {}
    for identifier in identifiers:
        type_ = identifier_type(identifier)
        if type_ in limits:
            counts[type_] = n = counts.get(type_, 0) + 1
            if n > limits[type_]:
                return False
    return True


def excess(
    identifier: Identifier, company_: Iterable[Identifier], rules: IdentityRules
) -> str | None:
    """``seen_with_many:<type>`` for the strongest type whose limit the company exceeds.

    ``company_`` holds the identifiers seen with ``identifier`` (itself included or not).
    """
    company_ = set(company_)
    types = {other: identifier_type(other) for other in company_}
    return _excess(identifier, company_, types, rules)


def _excess(
    identifier: Identifier,
    company_: Iterable[Identifier],
    types: Mapping[Identifier, str],
    rules: IdentityRules,
) -> str | None:
    limits = rules.limits
    counts: dict[str, int] = {}
    for other in company_:
        type_ = types[other]
        if type_ in limits and other != identifier:
            counts[type_] = counts.get(type_, 0) + 1
    exceeded = [type_ for type_, n in counts.items() if n > limits[type_]]
    if not exceeded:
        return None
    return f"seen_with_many:{min(exceeded, key=strength_key(rules.priority))}"


def company(touchpoints: Iterable[Touchpoint]) -> set[Identifier]:
    """Every identifier the touchpoints carry (the company of one they all carry)."""
    return {other for touchpoint in touchpoints for other in touchpoint.identifiers}


def _neighbours(touchpoints: Iterable[Touchpoint]) -> dict[Identifier, set[Identifier]]:
    """Per identifier seen with another one: every identifier seen with it (itself too)."""
    neighbours: dict[Identifier, set[Identifier]] = {}
    for touchpoint in touchpoints:
        if len(touchpoint.identifiers) < 2:
            continue
        for identifier in touchpoint.identifiers:
            known = neighbours.get(identifier)
            if known is None:
                neighbours[identifier] = set(touchpoint.identifiers)
            else:
                known.update(touchpoint.identifiers)
    return neighbours


def _content(item: Evidence) -> tuple[datetime, tuple[Identifier, ...], str]:
    return item.occurred_at, tuple(sorted(item.identifiers)), item.assurance

