"""Trace and correlation context, carried from HTTP requests into Kafka headers and back.

W3C trace context (``traceparent``/``tracestate``) plus our correlation id. The
current context lives in a context variable, so log lines, appended events and
published messages pick it up without threading it through every call.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = [
    "TraceContext",
    "current_trace",
    "from_headers",
    "new_trace",
    "parse_traceparent",
    "peek_trace",
    "to_headers",
    "use_trace",
]

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

HEADER_TRACEPARENT = "traceparent"
HEADER_TRACESTATE = "tracestate"
HEADER_CORRELATION = "correlation-id"


@dataclass(frozen=True)
class TraceContext:
    """Where a unit of work belongs: a W3C trace and a correlation id."""

    traceparent: str
    correlation_id: str
    tracestate: str = ""

    @property
    def trace_id(self) -> str:
        return self.traceparent.split("-")[1]

    def child(self) -> TraceContext:
        """The same trace with a fresh span id (for a hop such as publish or consume)."""
        parent = self.traceparent
        # "00-" trace id "-" span id "-" flags: the span id is characters 36 to 52.
        return TraceContext(f"{parent[:36]}{_random_hex(64)}{parent[52:]}",
                            self.correlation_id, self.tracestate)


def parse_traceparent(value: str | None) -> str | None:
    """Return ``value`` if it is a valid version-00 traceparent, else ``None``."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None or match[1] == "0" * 32 or match[2] == "0" * 16:
        return None
    return match[0]


def new_trace(correlation_id: str | None = None) -> TraceContext:
    """Start a new trace (sampled) with the given or a fresh correlation id."""
    traceparent = f"00-{_random_hex(128)}-{_random_hex(64)}-01"
    return TraceContext(traceparent, correlation_id or str(uuid.uuid4()))


def _random_hex(bits: int) -> str:
    """A random non-zero id of ``bits`` bits, in lower-case hex. Trace and span ids must
    not collide; they need not be secret (OpenTelemetry's SDK draws them the same way),
    so no system call per id, on the path of every consumed message."""
    while not (value := random.getrandbits(bits)):
        pass
    return f"{value:0{bits // 4}x}"


_current: ContextVar[TraceContext | None] = ContextVar("crm_trace", default=None)


def peek_trace() -> TraceContext | None:
    """The current trace, or ``None`` outside any unit of work (never starts one)."""
    return _current.get()


def current_trace() -> TraceContext:
    """The trace of the running unit of work; a new one if none was set."""
    trace = _current.get()
    if trace is None:
        trace = new_trace()
        _current.set(trace)
    return trace


@contextmanager
def use_trace(trace: TraceContext) -> Iterator[TraceContext]:
    """Make ``trace`` current for the duration of the block."""
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


def to_headers(trace: TraceContext) -> list[tuple[str, bytes]]:
    """Kafka headers carrying ``trace``."""
    headers = [(HEADER_TRACEPARENT, trace.traceparent.encode()),
               (HEADER_CORRELATION, trace.correlation_id.encode())]
    if trace.tracestate:
        headers.append((HEADER_TRACESTATE, trace.tracestate.encode()))
    return headers


def from_headers(headers: Iterable[tuple[str, bytes]] | None) -> TraceContext:
    """The trace carried by Kafka headers, continued as a child span; new if absent."""
    found = {key: value.decode(errors="replace") for key, value in headers or ()}
    traceparent = parse_traceparent(found.get(HEADER_TRACEPARENT))
    correlation = found.get(HEADER_CORRELATION) or str(uuid.uuid4())
    if traceparent is None:
        return new_trace(correlation)
    return TraceContext(traceparent, correlation, found.get(HEADER_TRACESTATE, "")).child()
