"""Answer any unhandled exception with a generic 500 problem, logged with its traceback."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_servicekit.problems import Problem

__all__ = ["UnhandledErrorMiddleware"]

_log = logging.getLogger("crm_servicekit.errors")

_DETAIL = "An unexpected error occurred. Quote the correlation id when reporting it."


class UnhandledErrorMiddleware:
    """Turn an exception that escaped the app into a 500 problem document.

    Nothing of the exception reaches the client; the traceback goes to the log,
    tagged with the request's correlation id. If the response had already
    started, the exception is re-raised for the server to close the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            _log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if started:
                raise
            problem = Problem(500, detail=_DETAIL, slug="internal-error")
            await problem.response(scope["path"])(scope, receive, send)
