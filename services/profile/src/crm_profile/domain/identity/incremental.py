"""One step of incremental resolution: new evidence in, decisions out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain

from crm_profile.domain.identity.component import affected_component
from crm_profile.domain.identity.decisions import Decision
from crm_profile.domain.identity.reconcile import reconcile
from crm_profile.domain.identity.resolution import resolve
from crm_profile.domain.identity.state import CurrentIdentity
from crm_profile.domain.identity.values import Evidence, IdentityRules

__all__ = ["decide"]


def decide(
    current: CurrentIdentity,
    new: Evidence,
    known: Iterable[Evidence],
    rules: IdentityRules,
    new_customer_id: Callable[[], str],
) -> tuple[Decision, ...]:
    """What ``new`` changes, given the state and the evidence known before it.

    Resolves the affected component again (with the identifiers already shared) and
    diffs it against ``current``. Applying the result keeps the state equal to
    ``resolve`` of all evidence; evidence seen before yields no decisions.
    """
    known = tuple(known)
    shared = frozenset(current.shared)
    ids = affected_component(new, known, rules, shared)
    component = [item for item in chain(known, [new]) if item.touchpoint_id in ids]
    target = resolve(component, rules, shared=shared)
    return reconcile(current, target, component, new_customer_id)
