"""The catalogue of channels and touchpoint types, and which channel may report which type.

A type is either *typed* (its properties have a model of their own and a message of their
own on the wire) or *generic* (bounded free-form properties). Adding a type is a change
here plus, for a typed one, a model in ``properties.py`` and a message in the proto.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal, get_args

__all__ = [
    "ALLOWED_CHANNELS",
    "CHANNELS",
    "GENERIC_TYPES",
    "TOUCHPOINT_TYPES",
    "TYPED_TYPES",
    "Channel",
    "GenericType",
]

Channel = Literal[
    "call_center", "web", "email", "store", "mobile_app", "sms", "direct_mail", "social"
]
CHANNELS: tuple[str, ...] = get_args(Channel)

# Types whose properties are free-form (bounded in size, depth and length).
GenericType = Literal[
    "form_submit",
    "sign_up",
    "login",
    "product_view",
    "add_to_cart",
    "profile_update",
    "store_visit",
    "email_sent",
    "email_open",
    "email_click",
    "email_bounce",
    "sms_sent",
    "sms_reply",
    "app_open",
    "push_open",
    "direct_mail_sent",
    "social_message",
    # Closes a complaint in the customer view: properties {"complaint_event_id": ...}
    # (the complaint touchpoint's event_id; without it, every earlier open complaint).
    "complaint_resolved",
]
GENERIC_TYPES: tuple[str, ...] = get_args(GenericType)

TYPED_TYPES: tuple[str, ...] = (
    "order",
    "refund",
    "call",
    "survey_response",
    "complaint",
    "page_view",
    "consent",
)

TOUCHPOINT_TYPES: tuple[str, ...] = TYPED_TYPES + GENERIC_TYPES

_EVERY = frozenset(CHANNELS)
_DIGITAL = frozenset({"web", "mobile_app"})

ALLOWED_CHANNELS: MappingProxyType[str, frozenset[str]] = MappingProxyType({
    "order": frozenset({"web", "mobile_app", "store", "call_center", "direct_mail", "social"}),
    "refund": frozenset({"web", "mobile_app", "store", "call_center", "direct_mail"}),
    "call": frozenset({"call_center"}),
    "survey_response": _EVERY,
    "complaint": _EVERY,
    "complaint_resolved": _EVERY,
    "page_view": _DIGITAL,
    "consent": _EVERY,
    "form_submit": _DIGITAL,
    "sign_up": _DIGITAL | {"store", "call_center"},
    "login": _DIGITAL,
    "product_view": _DIGITAL,
    "add_to_cart": _DIGITAL,
    "profile_update": _EVERY,
    "store_visit": frozenset({"store"}),
    "email_sent": frozenset({"email"}),
    "email_open": frozenset({"email"}),
    "email_click": frozenset({"email"}),
    "email_bounce": frozenset({"email"}),
    "sms_sent": frozenset({"sms"}),
    "sms_reply": frozenset({"sms"}),
    "app_open": frozenset({"mobile_app"}),
    "push_open": frozenset({"mobile_app"}),
    "direct_mail_sent": frozenset({"direct_mail"}),
    "social_message": frozenset({"social"}),
})
"""Channels each type may arrive through; any other pairing is ``channel_not_allowed``."""
