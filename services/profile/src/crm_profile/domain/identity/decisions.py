"""What identity resolution decides, as plain frozen values.

The service turns each decision into its protobuf event. Vocabulary of the slugs:

- ``IdentifierLinked.rule``: ``new_profile`` (an identifier a new profile is created
  for), ``seen_together`` (carried by a touchpoint with identifiers of the profile),
  ``reresolved`` (moved here when re-resolution undid a wrong link), ``split`` (moved
  here by a split).
- ``ProfilesMerged.rule``: ``bridging_touchpoint``.
- reasons: ``limit:<type>``, ``never_merge``, ``shared_identifier:<identifier>``,
  ``blocked_value:<identifier>``, ``reresolved``, ``split`` (moved out by a split),
  ``no_profile_seen`` (a touchpoint left unattributed); why an identifier is shared:
  ``seen_with_many:<type>`` or ``known_shared``.

A wrong merge is undone by :class:`ProfileUnmerged` when the profile that was merged away
can come back (it is restored with its old id and creation order); otherwise by
:class:`ProfileCreated` for the split-off part and :class:`IdentifierUnlinked` /
:class:`IdentifierLinked` for the identifiers that move.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_profile.domain.identity.values import Identifier

__all__ = [
    "Decision",
    "IdentifierLinked",
    "IdentifierMarkedShared",
    "IdentifierUnlinked",
    "MergeBlocked",
    "ProfileCreated",
    "ProfileUnmerged",
    "ProfilesMerged",
    "TouchpointAttributed",
    "TouchpointUnattributed",
]


@dataclass(frozen=True)
class ProfileCreated:
    """A new profile for a new cluster; one ``IdentifierLinked`` per identifier follows."""

    customer_id: str
    identifiers: frozenset[Identifier]


@dataclass(frozen=True)
class IdentifierLinked:
    """``identifier`` belongs to the profile: which touchpoint showed it, by which rule,
    with which assurance (``verified`` or ``self_asserted``)."""

    customer_id: str
    identifier: Identifier
    touchpoint_id: str
    rule: str
    assurance: str


@dataclass(frozen=True)
class ProfilesMerged:
    """Two profiles are one person: the older survives and takes every identifier."""

    survivor_id: str
    merged_away_id: str
    touchpoint_id: str
    bridging: frozenset[Identifier]
    rule: str


@dataclass(frozen=True)
class MergeBlocked:
    """A touchpoint bridged these profiles but a rule refused the merge (``reason``)."""

    customer_ids: tuple[str, ...]
    touchpoint_id: str
    reason: str


@dataclass(frozen=True)
class IdentifierUnlinked:
    """``identifier`` leaves the profile (it became shared or blocked, or moves elsewhere)."""

    customer_id: str
    identifier: Identifier
    reason: str


@dataclass(frozen=True)
class ProfileUnmerged:
    """A wrong merge undone: ``restored_id`` (merged away earlier) comes back with
    ``identifiers``, which leave ``customer_id``."""

    customer_id: str
    restored_id: str
    identifiers: frozenset[Identifier]
    reason: str


@dataclass(frozen=True)
class TouchpointAttributed:
    """The touchpoint belongs to this customer (first attribution or a new one)."""

    customer_id: str
    touchpoint_id: str


@dataclass(frozen=True)
class TouchpointUnattributed:
    """The touchpoint no longer belongs to ``customer_id`` nor to anyone: every identifier
    it carries became shared (or blocked) and none was ever seen with a profile."""

    customer_id: str
    touchpoint_id: str
    reason: str


@dataclass(frozen=True)
class IdentifierMarkedShared:
    """``identifier`` is shared (no reason to merge) and was seen with ``customer_ids``."""

    identifier: Identifier
    customer_ids: tuple[str, ...]
    reason: str


Decision = (
    ProfileCreated
    | IdentifierLinked
    | ProfilesMerged
    | MergeBlocked
    | IdentifierUnlinked
    | ProfileUnmerged
    | TouchpointAttributed
    | TouchpointUnattributed
    | IdentifierMarkedShared
)
"""Any identity decision."""
