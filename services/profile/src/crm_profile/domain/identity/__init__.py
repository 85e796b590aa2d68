"""Identity resolution: which touchpoints belong to the same person (docs/identity.md).

Pure functions over frozen values. :func:`resolve` partitions a set of evidence into
clusters; :func:`affected_component`, :func:`reconcile` and :func:`apply` (composed by
:func:`decide`) do the same incrementally, as decisions the service records as events.
:func:`split` moves identifiers to a new profile under a new never-merge fact.
"""

from crm_profile.domain.identity.component import affected_component, identifiers_to_load
from crm_profile.domain.identity.decisions import (
    Decision,
    IdentifierLinked,
    IdentifierMarkedShared,
    IdentifierUnlinked,
    MergeBlocked,
    ProfileCreated,
    ProfilesMerged,
    ProfileUnmerged,
    TouchpointAttributed,
    TouchpointUnattributed,
)
from crm_profile.domain.identity.incremental import decide
from crm_profile.domain.identity.reconcile import reconcile
from crm_profile.domain.identity.resolution import BlockedMerge, Resolution, resolve
from crm_profile.domain.identity.split import (
    IdentifiersNotInProfile,
    IdentifiersShared,
    NothingToMove,
    NothingWouldRemain,
    NotSeparable,
    ProfileMergedAway,
    Split,
    SplitRefused,
    UnknownProfile,
    split,
)
from crm_profile.domain.identity.state import (
    CurrentIdentity,
    EvolvingIdentity,
    MergedAway,
    Profile,
    apply,
    evolve,
    holding,
    restrict,
)
from crm_profile.domain.identity.state_index import StateIndex
from crm_profile.domain.identity.values import (
    DEFAULT_LIMITS,
    DEFAULT_PRIORITY,
    Evidence,
    Identifier,
    IdentityRules,
    NeverMerge,
    identifier_type,
    make_identifier,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_PRIORITY",
    "BlockedMerge",
    "CurrentIdentity",
    "Decision",
    "Evidence",
    "EvolvingIdentity",
    "Identifier",
    "IdentifierLinked",
    "IdentifierMarkedShared",
    "IdentifierUnlinked",
    "IdentifiersNotInProfile",
    "IdentifiersShared",
    "IdentityRules",
    "MergeBlocked",
    "MergedAway",
    "NeverMerge",
    "NotSeparable",
    "NothingToMove",
    "NothingWouldRemain",
    "Profile",
    "ProfileCreated",
    "ProfileMergedAway",
    "ProfileUnmerged",
    "ProfilesMerged",
    "Resolution",
    "Split",
    "SplitRefused",
    "StateIndex",
    "TouchpointAttributed",
    "TouchpointUnattributed",
    "UnknownProfile",
    "affected_component",
    "apply",
    "decide",
    "evolve",
    "holding",
    "identifier_type",
    "identifiers_to_load",
    "make_identifier",
    "reconcile",
    "resolve",
    "restrict",
    "split",
]
