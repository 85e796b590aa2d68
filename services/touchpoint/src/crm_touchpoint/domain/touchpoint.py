"""An accepted touchpoint: validated, normalised, and ready for the store and the wire."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import orjson
from pydantic import BaseModel

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_touchpoint.domain.identifiers import Identifier
from crm_touchpoint.domain.properties import GenericProperties, OrderProperties, Properties
from crm_touchpoint.domain.wire import format_timestamp, touchpoint_to_proto

__all__ = ["ValidatedTouchpoint", "canonical_json", "properties_to_json"]

# Bumped if the canonical form ever changes, so that old and new hashes never collide.
_HASH_DOMAIN = b"crm.touchpoint.content.v1\n"
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


@dataclass(frozen=True)
class ValidatedTouchpoint:
    """One touchpoint that passed validation, in normal form.

    ``identifiers`` are strongest first (customer_number, loyalty_id, email, phone,
    anonymous_id). ``warnings`` say what was dropped on the way in; they are not part of
    the event: two touchpoints that differ only in warnings are equal and hash the same.
    """

    event_id: uuid.UUID
    channel: str
    type: str
    occurred_at: datetime
    identifiers: tuple[Identifier, ...]
    traits: Mapping[str, str] = field(hash=False)
    properties: Properties = field(hash=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @cached_property
    def event_id_text(self) -> str:
        """``str(event_id)``, made once: the API, the wire and the store all need it."""
        return str(self.event_id)

    def content_hash(self) -> bytes:
        """SHA-256 of the canonical JSON of :meth:`to_json` (sorted keys, compact, UTF-8).

        Equal for the same normalised event, different when any field differs: this is
        how a re-sent event id is told apart as a duplicate or a conflict.
        """
        document = self.to_json()
        # Only generic properties can hold floats, which orjson writes differently.
        if isinstance(self.properties, GenericProperties):
            canonical = _CANONICAL.encode(document).encode()
        else:
            canonical = canonical_json(document)
        return hashlib.sha256(_HASH_DOMAIN + canonical).digest()

    def partition_key(self, secret: bytes) -> str:
        """The strongest identifier's type and a keyed hash of it (HMAC-SHA256 under
        ``secret``, 128 bits): one person's touchpoints share a partition, and the keys
        on the topic name nobody (an unkeyed hash of an e-mail address can be guessed)."""
        strongest = self.identifiers[0]
        digest = hmac.digest(secret, f"{strongest.type}:{strongest.value}".encode(), "sha256")
        return f"{strongest.type}:{digest[:16].hex()}"

    def to_proto(self, *, received_at: datetime, source_key_id: str) -> TouchpointRecorded:
        """The ``crm.touchpoints.v1.TouchpointRecorded`` message of this touchpoint."""
        return touchpoint_to_proto(self, received_at=received_at, source_key_id=source_key_id)

    def to_json(self) -> dict[str, object]:
        """The touchpoint in the public API's JSON shape, normalised (absent optionals left
        out); validating it again gives an equal touchpoint."""
        return {
            "event_id": self.event_id_text,
            "channel": self.channel,
            "type": self.type,
            "occurred_at": format_timestamp(self.occurred_at),
            "identifiers": {identifier.type: identifier.value for identifier in self.identifiers},
            "traits": dict(self.traits),
            "properties": properties_to_json(self.properties),
        }


def canonical_json(document: object) -> bytes:
    """JSON ``document`` without floats in canonical form, as UTF-8: the bytes of
    ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.

    orjson writes those bytes for strings, integers, booleans and null (tested with
    hypothesis) at a fraction of the cost, but some floats differently (``1e-05`` as
    ``0.00001``): content hashes are stored, so their canonical form must never change.
    """
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def properties_to_json(properties: Properties) -> dict[str, object]:
    """Properties as JSON: absent optionals and an empty item list are left out."""
    if isinstance(properties, GenericProperties):
        return dict(properties.fields)
    if isinstance(properties, OrderProperties):
        shown = _set_fields(properties)
        if properties.items:
            shown["items"] = [_set_fields(item) for item in properties.items]
        else:
            del shown["items"]
        return shown
    return _set_fields(properties)


def _set_fields(model: BaseModel) -> dict[str, object]:
    # Every typed field is a JSON scalar (or order items, replaced by the caller); reading
    # __dict__ is several times faster than model_dump.
    return {name: value for name, value in model.__dict__.items() if value is not None}
