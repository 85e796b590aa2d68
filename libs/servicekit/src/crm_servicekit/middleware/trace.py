"""Continue or start the request's trace and echo its ids on the response."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_messaging.tracing import TraceContext, new_trace, parse_traceparent, use_trace

__all__ = ["CORRELATION_HEADER", "TRACEPARENT_HEADER", "TraceMiddleware", "trace_from_headers"]

CORRELATION_HEADER = "X-Correlation-ID"
TRACEPARENT_HEADER = "traceparent"

_CORRELATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_MAX_TRACESTATE = 512


def trace_from_headers(headers: Headers) -> TraceContext:
    """The trace for a request: a child span of a valid ``traceparent``, else a new trace.

    A missing or invalid ``X-Correlation-ID`` is replaced by a fresh UUID.
    """
    correlation_id = headers.get(CORRELATION_HEADER, "").strip()
    if not _CORRELATION_ID.match(correlation_id):
        correlation_id = str(uuid.uuid4())
    traceparent = parse_traceparent(headers.get(TRACEPARENT_HEADER))
    if traceparent is None:
        return new_trace(correlation_id)
    tracestate = headers.get("tracestate", "")[:_MAX_TRACESTATE]
    return TraceContext(traceparent, correlation_id, tracestate).child()


class TraceMiddleware:
    """Make the request's :class:`TraceContext` current while the app handles it.

    Logs, problem documents and events appended during the request pick it up;
    the response carries ``X-Correlation-ID`` and this hop's ``traceparent``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace = trace_from_headers(Headers(scope=scope))

        async def echoing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[CORRELATION_HEADER] = trace.correlation_id
                headers[TRACEPARENT_HEADER] = trace.traceparent
            await send(message)

        with use_trace(trace):
            await self.app(scope, receive, echoing_send)
