"""Hot routes answered without FastAPI's router and dependency solving.

A route taking thousands of requests a second (one touchpoint per request) spends more of
its CPU in FastAPI's routing, dependency solving and request wrapping than in its own work.
A :class:`DirectRoute` is answered by :class:`DirectRoutesMiddleware`, the innermost of the
kit's middleware: the trace, the access log and metrics, the 500 and body-size guards still
apply; FastAPI's router does not run. The route is also declared on an ``APIRouter`` as
usual, so that OpenAPI documents it (``create_app`` refuses a direct route that is not);
both call the same endpoint, with the same key check, and answer a :class:`Problem` alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from crm_servicekit.apikeys.dependencies import require_scope
from crm_servicekit.apikeys.keys import ApiKey
from crm_servicekit.problems import Problem

__all__ = ["DirectEndpoint", "DirectRoute", "DirectRoutesMiddleware", "check_declared"]

DirectEndpoint = Callable[[Request, ApiKey], Awaitable[Response]]


@dataclass(frozen=True)
class DirectRoute:
    """``method path``, served by ``endpoint`` for a key holding ``scope``.

    ``path`` is matched exactly (no parameters): the access log and metrics name the
    route by it, as they name a FastAPI route by its template.
    """

    method: str
    path: str
    scope: str
    endpoint: DirectEndpoint
    _key: Callable[[Request], Awaitable[ApiKey]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The same dependency the declared route uses: the same 401 and 403 answers.
        object.__setattr__(self, "_key", require_scope(self.scope))

    async def answer(self, request: Request) -> Response:
        """The endpoint's response, or the problem document it (or the key check) raised."""
        try:
            return await self.endpoint(request, await self._key(request))
        except Problem as problem:
            return problem.response(request.url.path)


class DirectRoutesMiddleware:
    """Answer the direct routes; pass every other request on to the app."""

    def __init__(self, app: ASGIApp, routes: Sequence[DirectRoute]) -> None:
        self.app = app
        self.routes = {(route.method, route.path): route for route in routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get((scope["method"], scope["path"])) \
            if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # what the access log and metrics name the request by
        response = await route.answer(Request(scope, receive, send))
        await response(scope, receive, send)


def check_declared(direct: Iterable[DirectRoute], routes: Iterable[object]) -> None:
    """Raise ``ValueError`` for a direct route no ``APIRoute`` among ``routes`` declares."""
    declared = {(method, route.path) for route in routes if isinstance(route, APIRoute)
                for method in route.methods or ()}
    for route in direct:
        if (route.method, route.path) not in declared:
            raise ValueError(f"direct route {route.method} {route.path} is not declared on a "
                             "router: OpenAPI would not document it")
