"""The unified customer record (ARCHITECTURE.md), its JSON form, masking and digest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import TypeAlias

import orjson

from crm_customer_view.domain.consent import ConsentValue
from crm_customer_view.domain.masking import mask_identifier, mask_trait
from crm_customer_view.domain.metrics import (
    ChannelSummary,
    ClvEstimate,
    OpenComplaint,
    OrderMetrics,
    RfmScores,
    Satisfaction,
    ScoreSummary,
)

__all__ = [
    "CustomerRecord",
    "Freshness",
    "IdentifierView",
    "JsonObject",
    "JsonValue",
    "Redirect",
    "TraitValue",
    "digest",
    "rfc3339",
]

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"


# Cached: a record's times repeat (first and last seen, traits, channels), the records of
# a chunk are rendered twice (full and masked), and formatting costs ~1.2 us, a hit 0.1.
# Equal moments in other zones give the same UTC text, so one entry serves them all.
@lru_cache(maxsize=8_192)
def rfc3339(moment: datetime) -> str:
    """UTC with ``Z``: ``2024-05-01T10:00:00.250000Z`` (microseconds only when set)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


def _decimal(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


@dataclass(frozen=True)
class IdentifierView:
    """An identifier of the customer: when it was first and last seen (attributed
    touchpoints carrying it, and its links), and whether other people share it."""

    type: str
    value: str
    first_seen: datetime
    last_seen: datetime
    shared: bool

    def to_json(self, mask_pii: bool) -> JsonObject:
        value = mask_identifier(self.type, self.value) if mask_pii else self.value
        return {"value": value, "first_seen": rfc3339(self.first_seen),
                "last_seen": rfc3339(self.last_seen), "shared": self.shared}


@dataclass(frozen=True)
class TraitValue:
    """The winning value of a trait: its source (a channel, or what the profile service
    said, e.g. ``back_office``), when it was observed, and the event that carried it."""

    name: str
    value: str
    source: str
    occurred_at: datetime
    event_id: str

    def to_json(self, mask_pii: bool) -> JsonObject:
        value = mask_trait(self.name, self.value) if mask_pii else self.value
        return {"value": value, "source": self.source,
                "occurred_at": rfc3339(self.occurred_at), "event_id": self.event_id}


@dataclass(frozen=True)
class Freshness:
    """``version``: the number of facts folded into the record (it drops when an unmerge
    takes a lineage away); ``last_event_at``: the latest time among them. The service adds
    ``updated_at``."""

    version: int
    last_event_at: datetime | None


@dataclass(frozen=True)
class CustomerRecord:
    """One customer, every channel: a pure function of the set of facts."""

    customer_id: str
    merged_ids: tuple[str, ...]
    erased: bool
    identifiers: tuple[IdentifierView, ...]
    traits: tuple[TraitValue, ...]
    consent: tuple[ConsentValue, ...]
    channels: tuple[ChannelSummary, ...]
    orders: OrderMetrics
    rfm: RfmScores | None
    clv: ClvEstimate | None
    satisfaction: Satisfaction
    open_complaints: tuple[OpenComplaint, ...]
    freshness: Freshness
    segments: tuple[str, ...] = ()
    recent_campaign_contacts: tuple[str, ...] = ()

    def to_json(self, mask_pii: bool) -> JsonObject:
        """The record as JSON-ready data; ``mask_pii`` masks names, emails and phones.
        The unmasked form is made once per record (comparing with what is stored and
        storing it both need it): the same object each time, not to be modified."""
        unmasked = self._unmasked
        return self.with_pii_masked(unmasked) if mask_pii else unmasked

    def with_pii_masked(self, unmasked: JsonObject) -> JsonObject:
        """``to_json(mask_pii=True)``, from the ``to_json(mask_pii=False)`` the caller has
        already made: only the identifiers and the trait values differ."""
        return {**unmasked, "identifiers": self._identifiers(mask_pii=True),
                "traits": self._traits(mask_pii=True)}

    @cached_property
    def _unmasked(self) -> JsonObject:
        return {
            "customer_id": self.customer_id,
            "merged_ids": list(self.merged_ids),
            "erased": self.erased,
            "identifiers": self._identifiers(mask_pii=False),
            "traits": self._traits(mask_pii=False),
            "consent": self._consent(),
            "channels": {c.channel: _channel(c) for c in self.channels},
            "orders": _orders(self.orders),
            "rfm": None if self.rfm is None else _rfm(self.rfm),
            "clv": None if self.clv is None else _clv(self.clv),
            "satisfaction": {"nps": _score(self.satisfaction.nps),
                             "csat": _score(self.satisfaction.csat)},
            "open_complaints": [_complaint(c) for c in self.open_complaints],
            "segments": list(self.segments),
            "recent_campaign_contacts": list(self.recent_campaign_contacts),
            "freshness": {"version": self.freshness.version,
                          "last_event_at": _time(self.freshness.last_event_at)},
        }

    def _identifiers(self, mask_pii: bool) -> JsonObject:
        by_type: dict[str, list[JsonValue]] = {}
        for identifier in self.identifiers:
            by_type.setdefault(identifier.type, []).append(identifier.to_json(mask_pii))
        return dict(by_type.items())

    def _traits(self, mask_pii: bool) -> JsonObject:
        return {t.name: t.to_json(mask_pii) for t in self.traits}

    def _consent(self) -> JsonObject:
        by_channel: dict[str, JsonObject] = {}
        for value in self.consent:
            by_channel.setdefault(value.channel, {})[value.purpose] = {
                "state": value.state, "evidence_event_id": value.evidence_event_id,
                "occurred_at": rfc3339(value.occurred_at)}
        return dict(by_channel.items())


@dataclass(frozen=True)
class Redirect:
    """``customer_id`` was merged away: its history lives in ``survivor_id``'s record."""

    customer_id: str
    survivor_id: str

    def to_json(self) -> JsonObject:
        return {"customer_id": self.customer_id, "merged_into": self.survivor_id}


def digest(record: CustomerRecord) -> str:
    """A stable sha256 of the record's canonical JSON (unmasked): equal records, equal
    digests, whatever the process, the order of folding or the time of the rebuild."""
    return json_digest(record.to_json(mask_pii=False))


def json_digest(unmasked: JsonObject) -> str:
    """:func:`digest` of a record whose unmasked JSON the caller has already made."""
    return text_digest(canonical_json(unmasked))


def canonical_json(unmasked: JsonObject) -> str:
    """The canonical JSON text of a record (sorted keys, no spaces): what is digested, and
    fit to be stored as it is (a jsonb column keeps no key order anyway)."""
    # orjson writes what json.dumps(sort_keys=True, separators=(",", ":"),
    # ensure_ascii=False) writes (a record holds no floats), ~6x faster.
    return orjson.dumps(unmasked, option=orjson.OPT_SORT_KEYS).decode()


def text_digest(canonical: str) -> str:
    """:func:`digest` of a record's :func:`canonical_json` text."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def _channel(summary: ChannelSummary) -> JsonObject:
    return {"interactions": summary.interactions,
            "first_interaction": rfc3339(summary.first_interaction),
            "last_interaction": rfc3339(summary.last_interaction)}


def _orders(orders: OrderMetrics) -> JsonObject:
    return {
        "currency": orders.currency,
        "orders": orders.orders,
        "lifetime_revenue": str(orders.lifetime_revenue),
        "average_order_value": _decimal(orders.average_order_value),
        "last_order_at": _time(orders.last_order_at),
        "unconverted": [{"event_id": u.event_id, "type": u.type, "amount": u.amount,
                         "currency": u.currency} for u in orders.unconverted],
    }


def _rfm(rfm: RfmScores) -> JsonObject:
    return {"recency": rfm.recency, "frequency": rfm.frequency, "monetary": rfm.monetary,
            "score": rfm.code, "days_since_last_order": rfm.days_since_last_order}


def _clv(clv: ClvEstimate) -> JsonObject:
    return {"value": str(clv.value), "annual_margin": str(clv.annual_margin),
            "revenue_per_year": str(clv.revenue_per_year),
            "contacts_per_year": str(clv.contacts_per_year),
            "observed_days": clv.observed_days, "horizon_years": clv.horizon_years}


def _score(summary: ScoreSummary) -> JsonObject:
    return {"latest": summary.latest, "average": _decimal(summary.average),
            "responses": summary.responses}


def _complaint(complaint: OpenComplaint) -> JsonObject:
    return {"event_id": complaint.event_id, "channel": complaint.channel,
            "category": complaint.category, "severity": complaint.severity,
            "occurred_at": rfc3339(complaint.occurred_at)}
