"""Pure ASGI middleware the app factory installs, outermost first.

:class:`TraceMiddleware` makes the request's trace current, :class:`ObservabilityMiddleware`
logs and measures each request, :class:`UnhandledErrorMiddleware` answers crashes
with a 500 problem, :class:`BodySizeLimitMiddleware` answers oversized bodies with 413.
"""

from crm_servicekit.middleware.body_limit import BodySizeLimitMiddleware, RequestTooLarge
from crm_servicekit.middleware.errors import UnhandledErrorMiddleware
from crm_servicekit.middleware.observability import ObservabilityMiddleware
from crm_servicekit.middleware.trace import (
    CORRELATION_HEADER,
    TRACEPARENT_HEADER,
    TraceMiddleware,
    trace_from_headers,
)

__all__ = [
    "CORRELATION_HEADER",
    "TRACEPARENT_HEADER",
    "BodySizeLimitMiddleware",
    "ObservabilityMiddleware",
    "RequestTooLarge",
    "TraceMiddleware",
    "UnhandledErrorMiddleware",
    "trace_from_headers",
]
