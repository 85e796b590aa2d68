from datetime import UTC, datetime

from crm_eventstore import NewEvent


def event(n: int = 0, *, topic: str | None = None, key: str = "") -> NewEvent:
    return NewEvent(
        event_type="test.Happened",
        payload=f"payload-{n}".encode(),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        topic=topic,
        customer_key=key,
    )
