"""Sample events and keys shared by the touchpoint API tests."""

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Keys:
    writer: str
    reader: str
    web_only: str
    nothing: str


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def call_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "channel": "call_center",
        "type": "call",
        "occurred_at": "2026-11-20T09:30:00+01:00",
        "identifiers": {"phone": "(415) 555-2671", "email": "  Ada.Lovelace@Example.COM "},
        "traits": {"first_name": "Ada", "last_name": "Lovelace"},
        "properties": {"duration_seconds": 312, "reason": "billing", "outcome": "resolved",
                       "agent_id": "agent-17", "satisfaction": 5},
    }
    return event | overrides


def web_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "channel": "web",
        "type": "page_view",
        "occurred_at": "2026-11-20T10:00:00Z",
        "identifiers": {"email": "ada.lovelace@example.com", "anonymous_id": "web-7f3a"},
        "properties": {"url": "https://shop.example.com/pricing", "title": "Pricing"},
    }
    return event | overrides
