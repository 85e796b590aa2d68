"""One step of incremental resolution: new evidence in, decisions out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain

from crm_profile.domain.identity.component import affected_component
from crm_profile.domain.identity.decisions import Decision
from crm_profile.domain.identity.extension import extension_decisions
from crm_profile.domain.identity.newcomer import newcomer_decisions
from crm_profile.domain.identity.reconcile import reconcile
from crm_profile.domain.identity.resolution import resolve
from crm_profile.domain.identity.returning import returning_attribution
from crm_profile.domain.identity.state import CurrentIdentity
from crm_profile.domain.identity.values import Evidence, IdentityRules

__all__ = ["decide", "decide_by_component", "shortcut_decisions"]


def decide(
    current: CurrentIdentity,
    new: Evidence,
    known: Iterable[Evidence],
    rules: IdentityRules,
    new_customer_id: Callable[[], str],
) -> tuple[Decision, ...]:
    """What ``new`` changes, given the state and the evidence known before it.

    A returning customer's touchpoint is attributed at once (domain.identity.returning), a
    newcomer's gets a new profile at once (domain.identity.newcomer), a known customer's
    unseen identifiers join their profile at once (domain.identity.extension); otherwise the
    affected component is resolved again (with the identifiers already shared) and diffed
    against ``current``. Applying the result keeps the state equal to
    ``resolve`` of all evidence; evidence seen before yields no decisions.
    """
    known = tuple(known)
    shortcut = shortcut_decisions(current, new, known, rules, new_customer_id)
    if shortcut is not None:
        return shortcut
    return decide_by_component(current, new, known, rules, new_customer_id)


def shortcut_decisions(
    current: CurrentIdentity,
    new: Evidence,
    known: Iterable[Evidence],
    rules: IdentityRules,
    new_customer_id: Callable[[], str],
) -> tuple[Decision, ...] | None:
    """``new``'s decisions if a shortcut decides it (returning customer, newcomer, known
    customer with new identifiers), else None: then only the general way does.

    Each shortcut needs less than the component: ``known`` may be just the evidence
    carrying one of ``new``'s identifiers, and ``current`` must hold their profiles and
    every recorded refusal involving those (more refusals only send more to the general
    way).
    """
    known = tuple(known)
    returning = returning_attribution(current, new, known, rules)
    if returning is not None:
        return returning
    newcomer = newcomer_decisions(current, new, known, rules, new_customer_id)
    if newcomer is not None:
        return newcomer
    return extension_decisions(current, new, known, rules)


def decide_by_component(
    current: CurrentIdentity,
    new: Evidence,
    known: Iterable[Evidence],
    rules: IdentityRules,
    new_customer_id: Callable[[], str],
) -> tuple[Decision, ...]:
    """:func:`decide` without the shortcut for returning customers: the general way."""
    known = tuple(known)
    shared = frozenset(current.shared)
    ids = affected_component(new, known, rules, shared)
    component = [item for item in chain(known, [new]) if item.touchpoint_id in ids]
    target = resolve(component, rules, shared=shared)
    return reconcile(current, target, component, new_customer_id)
