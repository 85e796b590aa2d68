"""The metadata of events an API request causes: its trace, and the key as the cause."""

from __future__ import annotations

from crm_eventstore import EventMetadata
from crm_messaging.tracing import current_trace
from crm_servicekit.apikeys import ApiKey

__all__ = ["caused_by"]


def caused_by(key: ApiKey) -> EventMetadata:
    """Metadata for events recorded on behalf of ``key`` in the current request."""
    trace = current_trace()
    return EventMetadata(trace.correlation_id, f"api-key:{key.key_id}", trace.traceparent,
                         trace.tracestate)
