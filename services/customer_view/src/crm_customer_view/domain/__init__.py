"""The pure domain of the customer view: one record per customer from a set of facts.

No I/O here: no web framework, no database, no broker, no clock.

The model
    Every ``crm.profiles.v1`` event becomes zero or more *facts* (:func:`facts_from_event`,
    :func:`facts_from_envelope`): frozen values about customers, each with a unique
    :attr:`~Fact.key` (``"<event id>/<part>"``). The projection state is the *set* of facts:
    a redelivered event adds the same elements again, which changes nothing.
    :func:`record_of` and :func:`timeline` are pure functions of that set (and of a
    :class:`ProjectionConfig`); the order of arrival never enters.

Order without arrival order
    Identity decisions do not commute (an unmerge undoes the merge before it), so merges,
    unmerges, links, unlinks and (un)attributions are replayed in the order the profile
    service took them: its event-store position, which every envelope carries (see
    ``structure``). Everything else is placed by its ``occurred_at``, ties broken by event
    id: traits (the latest observation wins), consent (the latest decision wins, see
    ``consent``), first/last seen, metrics. A late or backfilled touchpoint therefore lands
    where its time puts it.

Merges
    A record is the fold of its customer and of every id merged into it (transitively,
    minus what unmerges took back). A merged-away id answers with :class:`Redirect` to its
    survivor. The merged record is the record one customer with both histories would have
    had, except consent, which a merge can only make stricter (issue 4; ``consent``).

Undo
    ``TouchpointUnattributed`` removes the touchpoint from the customer's lineage; a later
    attribution to someone else moves it (so the service files touchpoint facts under the
    touchpoint too: :func:`index_keys`, :func:`keys_to_load`). ``ProfileUnmerged`` detaches
    the restored id with its history and moves the identifiers it names.
    ``IdentifierUnlinked`` removes one identifier.

Erasure
    ``ProfileErased`` removes the PII of the erased id and of every id folded into it at
    that moment, from every fact of theirs whatever its position: identifiers, trait
    values, and the identifiers, traits and free text of the touchpoints they own (see
    ``erasure``). The record says ``erased: true`` and keeps what is not about the
    person's identity (counts, amounts, scores, consent). :func:`without_pii` gives the
    service the facts to store back (:func:`scrubbed_events`: whole events, as the service
    stores them), so that no trace stays in its tables either; scrubbed facts fold to the
    same records as the raw ones.

What the service must give the fold
    - Every fact :func:`keys_to_load` names for the customer (load to a fixpoint), and for
      each change the records of everyone :func:`customers_affected` and
      :func:`connected_customers` name.
    - The envelope ``position`` (the producer's event-store position) in every fact's
      :class:`EventMeta`: it is the order of identity decisions.
    - Each partition in order (Kafka does that): the profile service keys an unmerge by
      the live profile it erases too, so an erasure never arrives before an unmerge that
      split its lineage earlier, and stored facts are never scrubbed for the wrong person.

Changes
    :func:`record_change` tells whether a newly folded record differs from the stored one
    (:func:`stored_form`) and which top-level fields did: what the changelog publishes.

Decisions where the issue is silent
    - What a touchpoint says (its traits, a ``consent`` touchpoint's decision) counts for
      whoever holds the touchpoint now: it is read from the touchpoints the lineage holds,
      and the ``TraitObserved`` / ``ConsentChanged`` a touchpoint of the lineage caused
      (causation id, evidence id) are not counted again (``fold``), so a split or a
      re-resolution takes them along with the touchpoint.
    - Traits come from the traits of the touchpoints held (source: the channel) and from
      ``TraitObserved`` no touchpoint caused (back-office edits); the latest
      ``occurred_at`` wins, then the larger event id.
    - Consent comes from the ``consent`` touchpoints held and from ``ConsentChanged``
      whose evidence is no touchpoint of the lineage (set through the API).
    - Orders are counted per ``order_id``; refunds subtract their absolute amount; amounts
      without a rate are listed as unconverted; money is rounded half-even to cents once.
    - RFM recency and CLV tenure are measured to ``config.as_of`` or else to the latest
      interaction, never to the wall clock: rebuilds are identical.
    - A complaint is open until a ``complaint_resolved`` touchpoint closes it (a type the
      touchpoint catalogue does not accept yet: until it does, complaints stay open).
    - Identifiers of every type are erased (each one singles the person out); masking
      covers names, emails and phones (ARCHITECTURE.md).
"""

from crm_customer_view.domain.changelog import RecordChange, record_change, stored_form
from crm_customer_view.domain.config import (
    DEFAULT_CONTACT_TYPES,
    ClvInputs,
    ProjectionConfig,
    RfmThresholds,
)
from crm_customer_view.domain.consent import ConsentValue
from crm_customer_view.domain.erasure import (
    ErasedValues,
    Erasure,
    erased_customers,
    erased_values,
    scrubbed_events,
    without_pii,
)
from crm_customer_view.domain.events import (
    InvalidEvent,
    facts_from_envelope,
    facts_from_event,
    touchpoint_from_proto,
)
from crm_customer_view.domain.facts import (
    ConsentFact,
    CreationFact,
    ErasureFact,
    Fact,
    IdentifierFact,
    MergeFact,
    SharedFact,
    TouchpointFact,
    TraitFact,
    UnattributionFact,
    UnlinkFact,
    UnmergeFact,
    connected_customers,
    customer_key,
    customers_affected,
    index_keys,
    keys_to_load,
    touchpoint_key,
)
from crm_customer_view.domain.fold import record_of, timeline
from crm_customer_view.domain.masking import mask_email, mask_name, mask_phone
from crm_customer_view.domain.metrics import (
    ChannelSummary,
    ClvEstimate,
    OpenComplaint,
    OrderMetrics,
    RfmScores,
    Satisfaction,
    ScoreSummary,
    Unconverted,
)
from crm_customer_view.domain.record import (
    CustomerRecord,
    Freshness,
    IdentifierView,
    JsonObject,
    JsonValue,
    Redirect,
    TraitValue,
    canonical_json,
    digest,
    json_digest,
    text_digest,
)
from crm_customer_view.domain.timeline import TimelineEntry
from crm_customer_view.domain.values import EventMeta, Identifier, Touchpoint

__all__ = [
    "DEFAULT_CONTACT_TYPES",
    "ChannelSummary",
    "ClvEstimate",
    "ClvInputs",
    "ConsentFact",
    "ConsentValue",
    "CreationFact",
    "CustomerRecord",
    "ErasedValues",
    "Erasure",
    "ErasureFact",
    "EventMeta",
    "Fact",
    "Freshness",
    "Identifier",
    "IdentifierFact",
    "IdentifierView",
    "InvalidEvent",
    "JsonObject",
    "JsonValue",
    "MergeFact",
    "OpenComplaint",
    "OrderMetrics",
    "ProjectionConfig",
    "RecordChange",
    "Redirect",
    "RfmScores",
    "RfmThresholds",
    "Satisfaction",
    "ScoreSummary",
    "SharedFact",
    "TimelineEntry",
    "Touchpoint",
    "TouchpointFact",
    "TraitFact",
    "TraitValue",
    "UnattributionFact",
    "Unconverted",
    "UnlinkFact",
    "UnmergeFact",
    "canonical_json",
    "connected_customers",
    "customer_key",
    "customers_affected",
    "digest",
    "erased_customers",
    "erased_values",
    "facts_from_envelope",
    "facts_from_event",
    "index_keys",
    "json_digest",
    "keys_to_load",
    "mask_email",
    "mask_name",
    "mask_phone",
    "record_change",
    "record_of",
    "scrubbed_events",
    "stored_form",
    "text_digest",
    "timeline",
    "touchpoint_from_proto",
    "touchpoint_key",
    "without_pii",
]
