"""The event store's error taxonomy. Entry points translate these once, at the edge."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DuplicateEvent", "EventStoreError", "ReadTimeout", "WrongExpectedVersion"]


class EventStoreError(Exception):
    """Base of every event store error. ``retriable`` says whether trying again may work."""

    retriable = False


class WrongExpectedVersion(EventStoreError):
    """The stream moved since the writer read it: reload, decide again, retry."""

    retriable = True

    def __init__(self, stream_id: str, expected: int | None, actual: int | None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        actual_text = "unknown (a concurrent writer won)" if actual is None else str(actual)
        super().__init__(
            f"stream {stream_id!r} expected at version {expected}, found {actual_text}"
        )


class DuplicateEvent(EventStoreError):
    """An event with this id is already stored (event ids are globally unique)."""

    def __init__(self, event_ids: Sequence[str]) -> None:
        self.event_ids = list(event_ids)
        super().__init__(f"event id already stored: {', '.join(self.event_ids) or 'unknown'}")


class ReadTimeout(EventStoreError):
    """Transactions that may still add earlier positions did not finish in time."""

    retriable = True
