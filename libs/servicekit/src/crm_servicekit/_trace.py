"""Read the current trace without starting one."""

from __future__ import annotations

from crm_messaging import tracing
from crm_messaging.tracing import TraceContext

__all__ = ["peek_trace"]


def peek_trace() -> TraceContext | None:
    """The trace made current by ``use_trace``, or ``None`` outside any unit of work.

    ``current_trace()`` would start (and pin) a fresh trace when none is set; a log
    line or an error document must not do that, so this reads the variable directly.
    """
    # crm_messaging has no public non-creating getter yet; this is its one reader.
    return tracing._current.get()
