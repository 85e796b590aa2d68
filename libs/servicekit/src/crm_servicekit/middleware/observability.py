"""One access-log line and the request metrics for every HTTP request."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_servicekit.metrics import observe_request

__all__ = ["ObservabilityMiddleware"]

_log = logging.getLogger("crm_servicekit.access")

# Probes and scrapes arrive every few seconds; they are logged at DEBUG only.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_UNMATCHED = "<unmatched>"


class ObservabilityMiddleware:
    """Log each request and record it in the Prometheus request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self._record(scope, status, time.perf_counter() - started_at)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope)
        observe_request(scope["method"], route, status, seconds)
        level = logging.DEBUG if scope["path"] in _QUIET_PATHS else logging.INFO
        state = scope.get("state") or {}
        _log.log(level, "%s %s %d", scope["method"], scope["path"], status, extra={
            "method": scope["method"], "path": scope["path"], "route": route,
            "status": status, "duration_ms": round(seconds * 1000, 3),
            "api_key_id": state.get("api_key_id"),
        })


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else _UNMATCHED
