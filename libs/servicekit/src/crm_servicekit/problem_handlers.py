"""Exception handlers that answer every error as a problem document.

Unhandled exceptions (500) are answered by :class:`~crm_servicekit.middleware.errors.
UnhandledErrorMiddleware`, which runs inside the request's trace context.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from crm_servicekit.problems import Problem

__all__ = ["field_errors", "install_problem_handlers", "problem_from_http_exception"]

_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app`` (replacing FastAPI's JSON ``{"detail"}`` ones)."""
    # Each handler takes its own exception type; Starlette types them all as taking Exception.
    handlers: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
        Problem: _handle_problem,
        HTTPException: _handle_http_exception,
        RequestValidationError: _handle_validation_error,
        json.JSONDecodeError: _handle_json_error,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)


async def _handle_problem(request: Request, exc: Problem) -> Response:
    return exc.response(request.url.path)


async def _handle_http_exception(request: Request, exc: HTTPException) -> Response:
    if exc.status_code < 200 or exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)  # no body allowed
    return problem_from_http_exception(exc, request.method).response(request.url.path)


async def _handle_validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    invalid_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if invalid_json is not None:
        return _malformed_json(str(invalid_json.get("ctx", {}).get("error", "invalid JSON")))
    found = field_errors(errors)
    detail = "1 field is invalid" if len(found) == 1 else f"{len(found)} fields are invalid"
    problem = Problem(422, "Request validation failed", detail, slug="validation-error",
                      extensions={"errors": found})
    return problem.response(request.url.path)


async def _handle_json_error(request: Request, exc: json.JSONDecodeError) -> Response:
    return _malformed_json(exc.msg, request.url.path)


def _malformed_json(reason: str, instance: str | None = None) -> Response:
    detail = f"The request body is not valid JSON: {reason}."
    return Problem(400, "Malformed JSON", detail, slug="malformed-json").response(instance)


def problem_from_http_exception(exc: HTTPException, method: str = "") -> Problem:
    """Translate a framework ``HTTPException`` (404, 405 ...) into a :class:`Problem`."""
    if isinstance(exc, Problem):
        return exc
    status = exc.status_code
    detail: str | None = exc.detail if exc.detail != Problem(status).title else None
    if detail is None and status == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{method} is not allowed on this resource; allowed: {allowed}."
    if detail is None and status == 404:
        detail = "No resource exists at this path."
    return Problem(status, detail=detail, headers=exc.headers)


def field_errors(errors: Iterable[Mapping[str, object]]) -> list[dict[str, str]]:
    """Pydantic/FastAPI errors as ``{field, location, rule, message}`` members."""
    found: list[dict[str, str]] = []
    for error in errors:
        loc = error.get("loc", ())
        location, field = _split_location(loc if isinstance(loc, Sequence) else ())
        found.append({"field": field, "location": location,
                      "rule": str(error.get("type", "invalid")),
                      "message": str(error.get("msg", "invalid value"))})
    return found


def _split_location(loc: Sequence[object]) -> tuple[str, str]:
    parts = list(loc)
    location = str(parts.pop(0)) if parts and parts[0] in _LOCATIONS else "body"
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else str(part)
    return location, field or location
