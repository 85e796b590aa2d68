"""What a touchpoint says about the person, and the touchpoint without it (for erasure).

Every service that keeps touchpoints erases them the same way, so the rule lives with
the contract: identifiers, traits, warnings (they quote rejected input) and free text
(survey comments, page URLs, referrers and titles, order item names, generic properties
other than a complaint resolution's category and complaint id) go. What stays says
nothing about who the person is: ids, channel, type, times, amounts, scores, call and
complaint categories, consent.
"""

from __future__ import annotations

from google.protobuf.struct_pb2 import Struct

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded

__all__ = [
    "IMPERSONAL_GENERIC_FIELDS", "customer_key_id", "touchpoint_key_id", "touchpoint_without_pii",
]

IMPERSONAL_GENERIC_FIELDS = frozenset({"category", "complaint_event_id"})
"""Generic properties that say nothing about the person (they close complaints)."""


def touchpoint_key_id(event_id: str) -> str:
    """The key vault's id of the data key that seals one touchpoint on the topics."""
    return f"touchpoint:{event_id}"


def customer_key_id(customer_id: str) -> str:
    """The key vault's id of the data key that seals a customer's profile events."""
    return f"customer:{customer_id}"


def touchpoint_without_pii(touchpoint: TouchpointRecorded) -> TouchpointRecorded:
    """A copy of ``touchpoint`` with the person's personal data removed (idempotent)."""
    scrubbed = TouchpointRecorded()
    scrubbed.CopyFrom(touchpoint)
    del scrubbed.identifiers[:]
    scrubbed.traits.clear()
    del scrubbed.warnings[:]
    match scrubbed.WhichOneof("properties"):
        case "survey_response":
            scrubbed.survey_response.comment = ""
        case "page_view":
            scrubbed.page_view.Clear()
        case "order":
            for item in scrubbed.order.items:
                item.name = ""
        case "generic":
            _keep_impersonal(scrubbed.generic.fields)
    return scrubbed


def _keep_impersonal(fields: Struct) -> None:
    for name in [n for n in fields if n not in IMPERSONAL_GENERIC_FIELDS]:
        del fields[name]
