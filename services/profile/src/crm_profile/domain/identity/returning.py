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
from crm_profile.domain.identity.state import CurrentIdentity, plain, root_of
from crm_profile.domain.identity.values import Evidence, IdentityRules

__all__ = ["returning_attribution"]


def returning_attribution(
    current: CurrentIdentity, new: Evidence, covering: Iterable[Evidence],
    rules: IdentityRules,
) -> tuple[Decision, ...] | None:
    """``new``'s decisions if it is a returning customer's touchpoint, else None.

    ``covering`` is known evidence (at least one touchpoint whose identifiers include all
    of ``new``'s, if there is one); ``current`` must hold the attribution of those, the
    profiles they went to, and ``new``'s attribution if it was seen before.
    """
    if not plain(current, new, rules):
        return None
    identifiers = new.identifiers
    for item in covering:
        if item.touchpoint_id == new.touchpoint_id or not item.identifiers >= identifiers:
            continue
        owner = _owner_holding(current, item.touchpoint_id, identifiers)
        if owner is not None:
            return (TouchpointAttributed(owner, new.touchpoint_id),)
    return None


def _owner_holding(current: CurrentIdentity, touchpoint_id: str,
                   identifiers: frozenset[str]) -> str | None:
    """The profile the covering touchpoint went to, if it holds all of ``identifiers``
    (then it is their one owner: a non-shared identifier lives in one profile)."""
    attributed = current.attribution.get(touchpoint_id)
    if attributed is None:
        return None
    owner = root_of(current, attributed)
    profile = current.profiles.get(owner)
    return owner if profile is not None and identifiers <= profile.identifiers else None
