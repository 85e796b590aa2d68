"""Structured logs: one JSON object per line on stdout.

Every line carries the service name and, inside a request or a consumed message,
the correlation id and trace id of the current :class:`TraceContext`. Fields passed
with ``extra={...}`` are added as top-level members.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from crm_messaging.tracing import peek_trace

__all__ = ["JsonFormatter", "configure_logging"]

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None))
) | {"message", "asctime", "color_message", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format records as single-line JSON objects."""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def format(self, record: logging.LogRecord) -> str:
        trace = peek_trace()
        line: dict[str, object] = {
            key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES
        }
        line.update(
            ts=datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            level=record.levelname,
            logger=record.name,
            message=record.getMessage(),
            service=self.service_name,
            correlation_id=trace.correlation_id if trace else None,
            trace_id=trace.trace_id if trace else None,
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(service_name: str, level: str = "INFO") -> None:
    """Send every logger's records to stdout as JSON lines, replacing other handlers."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service_name))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Uvicorn's loggers log through the root handler; its access log is replaced by ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
