"""Refuse request bodies above a size limit with a 413 problem."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_servicekit.problems import Problem

__all__ = ["BodySizeLimitMiddleware", "RequestTooLarge"]


class RequestTooLarge(Problem):
    """The request body is larger than the service accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"The request body exceeds the limit of {limit} bytes.",
                         slug="content-too-large", extensions={"max_body_bytes": limit})


class BodySizeLimitMiddleware:
    """Check ``Content-Length`` up front and count the bytes of streamed bodies.

    A declared length above the limit is answered before the app runs. A chunked
    body is counted as the app reads it; crossing the limit raises
    :class:`RequestTooLarge` out of ``receive``, which the problem handlers (or this
    middleware, if nothing else did) answer with 413.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await RequestTooLarge(self.max_body_bytes).response(scope["path"])(scope, receive, send)
            return
        await self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise RequestTooLarge(self.max_body_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except RequestTooLarge as exc:
            if started:
                raise
            await exc.response(scope["path"])(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
