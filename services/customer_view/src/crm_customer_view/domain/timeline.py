"""One interaction of a customer's timeline, and its JSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from crm_customer_view.domain.masking import mask_identifier, mask_trait
from crm_customer_view.domain.record import JsonObject, JsonValue, rfc3339
from crm_customer_view.domain.values import (
    CallProperties,
    ComplaintProperties,
    ConsentProperties,
    GenericProperties,
    OrderProperties,
    PageViewProperties,
    Properties,
    RefundProperties,
    SurveyResponseProperties,
    Touchpoint,
)

__all__ = ["TimelineEntry"]


@dataclass(frozen=True)
class TimelineEntry:
    """A touchpoint of the record; ``attributed_to`` is the id it was attributed to (a
    merged-away one for history folded in by a merge). The timeline is sorted by
    :attr:`position`, descending: the cursor of a page is the last entry's position."""

    touchpoint: Touchpoint
    attributed_to: str

    @property
    def position(self) -> tuple[datetime, str]:
        """``(occurred_at, event_id)``: unique, and the timeline's order (newest first)."""
        return self.touchpoint.occurred_at, self.touchpoint.event_id

    def to_json(self, mask_pii: bool) -> JsonObject:
        touchpoint = self.touchpoint
        identifiers: dict[str, JsonValue] = {
            i.type: mask_identifier(i.type, i.value) if mask_pii else i.value
            for i in touchpoint.identifiers}
        traits: dict[str, JsonValue] = {
            name: mask_trait(name, value) if mask_pii else value
            for name, value in touchpoint.traits}
        return {
            "event_id": touchpoint.event_id,
            "attributed_to": self.attributed_to,
            "channel": touchpoint.channel,
            "type": touchpoint.type,
            "occurred_at": rfc3339(touchpoint.occurred_at),
            "identifiers": identifiers,
            "traits": traits,
            "properties": properties_json(touchpoint.properties),
        }


def properties_json(properties: Properties) -> JsonObject:
    """Type-specific properties as the API shows them (empty strings left out)."""
    match properties:
        case OrderProperties():
            return _present(
                order_id=properties.order_id, amount=properties.amount.amount,
                currency=properties.amount.currency,
                items=[_present(sku=i.sku, name=i.name, quantity=i.quantity,
                                unit_price=i.unit_price.amount) for i in properties.items])
        case RefundProperties():
            return _present(order_id=properties.order_id, amount=properties.amount.amount,
                            currency=properties.amount.currency)
        case CallProperties():
            return _present(duration_seconds=properties.duration_seconds,
                            reason=properties.reason, outcome=properties.outcome,
                            agent_id=properties.agent_id, satisfaction=properties.satisfaction)
        case SurveyResponseProperties():
            return _present(nps=properties.nps, csat=properties.csat,
                            comment=properties.comment)
        case ComplaintProperties():
            return _present(category=properties.category, severity=properties.severity)
        case PageViewProperties():
            return _present(url=properties.url, referrer=properties.referrer,
                            title=properties.title)
        case ConsentProperties():
            return {"channel": properties.channel, "purpose": properties.purpose,
                    "granted": properties.granted}
        case GenericProperties():
            decoded = json.loads(properties.json)
            return decoded if isinstance(decoded, dict) else {}
    return {}


def _present(**fields: JsonValue) -> JsonObject:
    return {name: value for name, value in fields.items() if value not in ("", None, [])}
