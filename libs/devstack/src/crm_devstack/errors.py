"""Errors of the local stack, worded for the person who typed ``make run``."""

__all__ = ["DevStackError"]


class DevStackError(RuntimeError):
    """Something prevents the embedded stack from starting; the message says what to do."""
