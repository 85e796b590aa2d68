"""Errors raised when bytes or names do not fit the event contracts."""

from __future__ import annotations

__all__ = ["ContractError", "MalformedMessage", "UnknownEventType"]


class ContractError(Exception):
    """Base of every contract error: a message does not fit proto/."""


class UnknownEventType(ContractError):
    """The event type is not in the catalogue (a newer producer, or not an event at all)."""

    def __init__(self, event_type: str) -> None:
        super().__init__(
            f"unknown event type {event_type!r}: not in the event catalogue"
            " (a message marked `option (crm.common.v1.event) = true`)"
        )
        self.event_type = event_type


class MalformedMessage(ContractError):
    """Bytes that do not decode, or decode to a message that breaks the contract."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"malformed {subject}: {reason}")
        self.subject = subject
        self.reason = reason
