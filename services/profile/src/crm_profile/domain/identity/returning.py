"""The returning customer: a touchpoint that says nothing new about identity.

Most traffic is people coming back with identifiers already seen together: the tenth
page view of a web session, a caller giving the phone and customer number on file. When
a new touchpoint's identifiers are all carried together by a touchpoint already known,
are none of them shared or blocked, and all belong to one live profile, resolving
everything again would give the same clusters, the same shared identifiers and the same
refusals:

- its pairs of identifiers were all seen together before, so no identifier is seen with
  a new value (nothing becomes shared);
- its unions join identifiers of one final cluster, and joining two parts of a final
  cluster earlier than before never changes an outcome: that cluster keeps to the rules,
  so every part of it does, and a refused union stays refused because refusals only
  depend on what the sets hold, which only grows;
- it carries no shared identifier, so no touchpoint's anchor moves.

So the only decision is its attribution to that profile, found without loading the
component: what the service does for most touchpoints.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm_profile.domain.identity.decisions import Decision, TouchpointAttributed
from crm_profile.domain.identity.state import CurrentIdentity
from crm_profile.domain.identity.values import Evidence, IdentityRules

__all__ = ["returning_attribution"]


def returning_attribution(
    current: CurrentIdentity, new: Evidence, covering: Iterable[Evidence],
    rules: IdentityRules,
) -> tuple[Decision, ...] | None:
    """``new``'s decisions if it is a returning customer's touchpoint, else None.

    ``covering`` is known evidence (at least every touchpoint whose identifiers include
    all of ``new``'s, if there is one); ``current`` must hold the profiles owning
    ``new``'s identifiers and ``new``'s attribution if it was seen before.
    """
    identifiers = new.identifiers
    if not identifiers or new.touchpoint_id in current.attribution:
        return None
    if identifiers & rules.blocked or any(i in current.shared for i in identifiers):
        return None
    owner = _single_owner(current, identifiers)
    if owner is None:
        return None
    if not any(item.identifiers >= identifiers and item.touchpoint_id != new.touchpoint_id
               for item in covering):
        return None
    return (TouchpointAttributed(owner, new.touchpoint_id),)


def _single_owner(current: CurrentIdentity, identifiers: frozenset[str]) -> str | None:
    owners = {customer_id for customer_id, profile in current.profiles.items()
              if profile.identifiers & identifiers}
    if len(owners) != 1:
        return None
    (owner,) = owners
    return owner if identifiers <= current.profiles[owner].identifiers else None
