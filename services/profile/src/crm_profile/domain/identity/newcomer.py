"""The newcomer: a touchpoint whose identifiers nobody has shown before.

A first visit, a first call: when no known touchpoint carries any of a new touchpoint's
identifiers, its component is itself alone. If it also keeps to the rules on its own (no
blocked value, no identifier already shared, no never-merge fact about its identifiers,
no more identifiers of a type than a profile may hold) then resolving it gives one
cluster holding all of its identifiers, and nothing becomes shared: with at most
``limit`` identifiers of a type in the whole touchpoint, no identifier is seen with more.

So the decisions are a new profile for those identifiers, each linked by this touchpoint,
and the touchpoint attributed to it: what :func:`decide_by_component` would give, without
resolving anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crm_profile.domain.identity._evidence import within_limits
from crm_profile.domain.identity.decisions import (
    Decision,
    IdentifierLinked,
    ProfileCreated,
    TouchpointAttributed,
)
from crm_profile.domain.identity.state import CurrentIdentity, plain
from crm_profile.domain.identity.values import Evidence, IdentityRules

__all__ = ["newcomer_decisions"]


def newcomer_decisions(
    current: CurrentIdentity, new: Evidence, known: Iterable[Evidence], rules: IdentityRules,
    new_customer_id: Callable[[], str],
) -> tuple[Decision, ...] | None:
    """``new``'s decisions if it is a newcomer's touchpoint, else None.

    ``known`` is the evidence recorded so far, or at least every known touchpoint carrying
    one of ``new``'s identifiers; ``new_customer_id`` is called only for a newcomer.
    """
    if not plain(current, new, rules):
        return None
    identifiers = new.identifiers
    if any(not identifiers.isdisjoint(item.identifiers) for item in known):
        return None
    if any(not identifiers.isdisjoint(fact.left | fact.right) for fact in rules.never_merge):
        return None
    if not within_limits(identifiers, rules):
        return None
    customer_id = new_customer_id()
    return (
        ProfileCreated(customer_id, identifiers),
        *(IdentifierLinked(customer_id, identifier, new.touchpoint_id, "new_profile",
                           new.assurance) for identifier in sorted(identifiers)),
        TouchpointAttributed(customer_id, new.touchpoint_id),
    )
