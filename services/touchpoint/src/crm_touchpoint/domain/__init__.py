"""The pure domain of the touchpoint service: what a valid touchpoint is.

No I/O here: no web framework, no database, no broker. The application layer calls
:func:`validate_touchpoint` with the parsed JSON of one event and the server's clock, and
gets a :class:`ValidatedTouchpoint` (normalised, with its content hash, partition key and
wire message) or a :class:`Rejection` listing every :class:`Problem` found (field + rule
slug from :data:`RULES` + message).

Decisions a client sees:

- Unknown fields are refused (``extra_forbidden``) at the top level, in identifiers, in
  traits (a closed list) and in typed properties; generic types take any bounded JSON.
- Placeholders ("undefined", "null", "NaN", all zeros, configured test addresses, ...)
  in identifiers, traits and optional text properties are dropped with a warning; real
  but malformed values (an email without a domain, an invalid phone) reject the event.
- Money is a decimal string, kept in canonical form for its currency ("19.9" -> "19.90").
- ``occurred_at`` is normalised to UTC; at most five minutes ahead, after the epoch.
- The channel x type matrix is :data:`ALLOWED_CHANNELS`; a mismatch is reported on
  ``type`` as ``channel_not_allowed``.
"""

from crm_touchpoint.domain.catalogue import (
    ALLOWED_CHANNELS,
    CHANNELS,
    GENERIC_TYPES,
    TOUCHPOINT_TYPES,
    TYPED_TYPES,
)
from crm_touchpoint.domain.identifiers import (
    IDENTIFIER_TYPES,
    Identifier,
    InvalidValue,
    JunkValue,
    normalise_identifier,
)
from crm_touchpoint.domain.problems import RULES, Problem, Rejection
from crm_touchpoint.domain.properties import (
    CallProperties,
    ComplaintProperties,
    ConsentProperties,
    GenericProperties,
    OrderItem,
    OrderProperties,
    PageViewProperties,
    Properties,
    RefundProperties,
    SurveyResponseProperties,
)
from crm_touchpoint.domain.rules import IngestionRules
from crm_touchpoint.domain.schema import EVENT_JSON_SCHEMA, event_json_schema
from crm_touchpoint.domain.touchpoint import ValidatedTouchpoint
from crm_touchpoint.domain.validation import validate_touchpoint
from crm_touchpoint.domain.wire import touchpoint_from_proto

__all__ = [
    "ALLOWED_CHANNELS",
    "CHANNELS",
    "EVENT_JSON_SCHEMA",
    "GENERIC_TYPES",
    "IDENTIFIER_TYPES",
    "RULES",
    "TOUCHPOINT_TYPES",
    "TYPED_TYPES",
    "CallProperties",
    "ComplaintProperties",
    "ConsentProperties",
    "GenericProperties",
    "Identifier",
    "IngestionRules",
    "InvalidValue",
    "JunkValue",
    "OrderItem",
    "OrderProperties",
    "PageViewProperties",
    "Problem",
    "Properties",
    "RefundProperties",
    "Rejection",
    "SurveyResponseProperties",
    "ValidatedTouchpoint",
    "event_json_schema",
    "normalise_identifier",
    "touchpoint_from_proto",
    "validate_touchpoint",
]
