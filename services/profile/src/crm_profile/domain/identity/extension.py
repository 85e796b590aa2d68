"""The extension: a known customer shows identifiers of theirs in a new combination.

A caller gives the customer number on file and a new phone; a signed-in visitor types a
new email; an app sends the customer number with a web id the profile already holds,
never seen together. When a new touchpoint's identifiers that were seen before all
belong to one live profile, the others were never seen at all (there may be none), and
together with that profile they keep to the rules, resolving everything again gives that
profile the new identifiers and changes nothing else:

- the profile with the new identifiers holds no more of a type than the limits allow,
  and no never-merge fact names any of them, so every union that built it (and the new
  touchpoint's own, wherever it falls in canonical order) joins parts of a cluster that
  keeps to the rules: none is refused;
- a union refused before stays refused: refusals depend on what the sets hold, which
  only grows, and the new identifiers reach no other cluster (only this touchpoint
  carries them). But its reason may change (the grown profile may exceed a stronger
  type's limit), and the refusal would be recorded again with it: a profile in a
  recorded refusal is left to the general way;
- no identifier becomes shared: each one's company (everything seen with it), with the
  new touchpoint's identifiers added, stays within the limits; so no touchpoint's anchor
  moves, and every other touchpoint stays where it was.

So the decisions are the links of the new identifiers to that profile (by this
touchpoint, ``seen_together``) and the touchpoint's attribution to it: what
:func:`decide_by_component` would give, without resolving anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm_profile.domain.identity._evidence import excess, within_limits
from crm_profile.domain.identity.decisions import Decision, IdentifierLinked, TouchpointAttributed
from crm_profile.domain.identity.state import CurrentIdentity, Profile, plain
from crm_profile.domain.identity.values import Evidence, Identifier, IdentityRules

__all__ = ["extension_decisions"]


def extension_decisions(
    current: CurrentIdentity, new: Evidence, known: Iterable[Evidence], rules: IdentityRules,
) -> tuple[Decision, ...] | None:
    """``new``'s decisions if its seen identifiers are one profile's and it may take its
    unseen ones (none, or some), else None.

    ``known`` is the evidence recorded so far, or at least every known touchpoint carrying
    one of ``new``'s identifiers; ``current`` holds the profiles of those identifiers.
    """
    if not plain(current, new, rules):
        return None
    identifiers = new.identifiers
    carrying = [item for item in known if item.touchpoint_id != new.touchpoint_id
                and not identifiers.isdisjoint(item.identifiers)]
    seen = frozenset[Identifier]().union(*(item.identifiers & identifiers for item in carrying))
    fresh = identifiers - seen
    if not seen:
        return None  # a newcomer's
    owner = _holding(current, seen)
    if owner is None or any(owner.customer_id in refused.customer_ids
                            for refused in current.blocked):
        return None  # a refusal's reason may change as the profile grows: resolve
    if not _keeps_to_the_rules(owner, new, fresh, carrying, rules):
        return None
    return (
        *(IdentifierLinked(owner.customer_id, identifier, new.touchpoint_id, "seen_together",
                           new.assurance) for identifier in sorted(fresh)),
        TouchpointAttributed(owner.customer_id, new.touchpoint_id),
    )


def _holding(current: CurrentIdentity, identifiers: frozenset[Identifier]) -> Profile | None:
    """The live profile holding all of ``identifiers`` (non-shared ones live in one)."""
    return next((p for p in current.profiles.values() if identifiers <= p.identifiers), None)


def _keeps_to_the_rules(owner: Profile, new: Evidence, fresh: frozenset[Identifier],
                        carrying: list[Evidence], rules: IdentityRules) -> bool:
    grown = owner.identifiers | fresh
    if any(not grown.isdisjoint(fact.left | fact.right) for fact in rules.never_merge):
        return False
    if not within_limits(grown, rules):
        return False
    return all(excess(identifier, _company(identifier, new, carrying, rules), rules) is None
               for identifier in new.identifiers)


def _company(identifier: Identifier, new: Evidence, carrying: list[Evidence],
             rules: IdentityRules) -> set[Identifier]:
    """Everything seen with ``identifier`` once ``new`` is (blocked values never count)."""
    company = set(new.identifiers)
    for item in carrying:
        if identifier in item.identifiers:
            company |= item.identifiers
    return company - rules.blocked
