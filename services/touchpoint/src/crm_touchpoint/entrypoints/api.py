"""``/v1/touchpoints``: post one event, post a batch, read one back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_eventstore import EventStore
from crm_servicekit import Problem, ServiceContext, get_context, problem_responses
from crm_servicekit.apikeys import TOUCHPOINTS_READ, TOUCHPOINTS_WRITE, ApiKey, require_scope
from crm_servicekit.direct_routes import DirectRoute
from crm_touchpoint.app.ingestion import Outcome, Status, TouchpointIngestion
from crm_touchpoint.app.recording import stream_id
from crm_touchpoint.domain import EVENT_JSON_SCHEMA, touchpoint_from_proto
from crm_touchpoint.entrypoints.rate_limit import RateLimiter
from crm_touchpoint.entrypoints.schemas import (
    BatchResult,
    EventResult,
    batch_result,
    event_result,
    problem_items,
)

__all__ = ["MAX_BATCH_EVENTS", "touchpoint_router"]

MAX_BATCH_EVENTS = 1_000



def _inlined(schema: Any, defs: dict[str, Any] | None = None) -> Any:
    """``schema`` with its ``#/$defs/...`` references replaced by their definitions.

    OpenAPI resolves ``#/...`` against the whole document, where pydantic's
    ``$defs`` are not; the event schema has no recursive types, so inlining is exact.
    """
    if defs is None and isinstance(schema, dict):
        defs = schema.get("$defs", {})
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and defs is not None:
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inlined(item, defs) for item in schema]
    return schema


_EVENT_SCHEMA = _inlined(EVENT_JSON_SCHEMA)
_ONE_EVENT = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _EVENT_SCHEMA}}}}
_BATCH = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["events"], "additionalProperties": False,
    "properties": {"events": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH_EVENTS,
                              "items": _EVENT_SCHEMA}}}}}}}

# Module level: FastAPI resolves these (string) annotations in the module's globals.
Writer = Annotated[ApiKey, Depends(require_scope(TOUCHPOINTS_WRITE))]
Reader = Annotated[ApiKey, Depends(require_scope(TOUCHPOINTS_READ))]
Context = Annotated[ServiceContext, Depends(get_context)]


def touchpoint_router(ingestion: TouchpointIngestion,
                      limiter: RateLimiter) -> tuple[APIRouter, DirectRoute]:
    """The routes, bound to the service's ingestion use case and rate limiter, and the
    single-event post again as a direct route: at one event per request, FastAPI's routing
    and dependency solving cost more than the service's own work (docs/reliability.md)."""
    router = APIRouter(prefix="/v1/touchpoints", tags=["touchpoints"])

    async def record_one(request: Request, key: ApiKey) -> Response:
        event = await _json_body(request)
        limits = limiter.take(key.key_id, 1)
        [outcome] = await ingestion.ingest([event], key)
        _raise_if_refused(outcome)
        # Plain JSON, as for a batch; the model documents the shape.
        return _accepted(event_result(0, outcome), limits)

    @router.post("", status_code=202, response_model=EventResult, openapi_extra=_ONE_EVENT,
                 responses=problem_responses(400, 401, 403, 409, 413, 422, 429))
    async def post_touchpoint(request: Request, key: Writer) -> Response:
        """Record one interaction. 202 means it is durable and will reach Kafka."""
        return await record_one(request, key)

    @router.post("/batch", status_code=202, response_model=BatchResult, openapi_extra=_BATCH,
                 responses=problem_responses(400, 401, 403, 413, 422, 429))
    async def post_batch(request: Request, key: Writer) -> Response:
        """Record up to 1,000 interactions; one result per event, in order."""
        events = _batch_events(await _json_body(request))
        limits = limiter.take(key.key_id, len(events))
        outcomes = await ingestion.ingest(events, key)
        # Built as plain JSON: re-validating a thousand results through the model costs
        # more than the rest of the response; the model documents the shape.
        return _accepted(batch_result(outcomes), limits)

    @router.get("/{event_id}", responses=problem_responses(401, 403, 404, 422))
    async def get_touchpoint(
        event_id: uuid.UUID, key: Reader, ctx: Context
    ) -> JSONResponse:
        """The stored event, normalised, as recorded (for support)."""
        events = await EventStore(ctx.engine).read_stream(stream_id(event_id), limit=1)
        if not events:
            raise Problem(404, "Touchpoint not found", f"no touchpoint {event_id}",
                          slug="touchpoint-not-found")
        message = TouchpointRecorded.FromString(events[0].payload)
        return JSONResponse(touchpoint_from_proto(message))

    return router, DirectRoute("POST", router.prefix, TOUCHPOINTS_WRITE, record_one)


async def _json_body(request: Request) -> Any:
    body = await request.body()
    try:
        # Not orjson: it reads integers beyond 64 bits as floats, which validation would
        # then judge differently.
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "Malformed JSON", f"the request body is not JSON: {exc}",
                      slug="malformed-json") from None


def _accepted(document: dict[str, object], headers: Mapping[str, str]) -> Response:
    # The bytes JSONResponse would send (compact, UTF-8; results hold no floats), faster.
    return Response(orjson.dumps(document), status_code=202, headers=headers,
                    media_type="application/json")


def _batch_events(body: Any) -> list[object]:
    if not isinstance(body, dict) or "events" not in body:
        raise _invalid_batch("events", "required", 'the body must be {"events": [...]}')
    if extra := sorted(set(body) - {"events"}):
        raise _invalid_batch(extra[0], "extra_forbidden", f"unexpected member {extra[0]!r}")
    events = body["events"]
    if not isinstance(events, list):
        raise _invalid_batch("events", "type", "events must be an array")
    if not 1 <= len(events) <= MAX_BATCH_EVENTS:
        raise _invalid_batch("events", "max_items" if events else "min_items",
                             f"a batch holds 1 to {MAX_BATCH_EVENTS} events, not {len(events)}")
    return events


def _invalid_batch(field: str, rule: str, message: str) -> Problem:
    return Problem(422, "Invalid batch", message, slug="invalid-batch",
                   extensions={"errors": [{"field": field, "rule": rule, "message": message}]})


def _raise_if_refused(outcome: Outcome) -> None:
    if outcome.status is not Status.REJECTED:
        return
    errors = problem_items(outcome)
    if outcome.conflict:
        raise Problem(409, "Event id conflict", errors[0]["message"], slug="event-id-conflict",
                      extensions={"errors": errors, "event_id": outcome.event_id})
    if outcome.forbidden:
        raise Problem(403, "Channel not allowed", errors[0]["message"],
                      slug="channel-not-allowed", extensions={"errors": errors})
    status = 413 if any(p.rule == "too_large" for p in outcome.problems) else 422
    raise Problem(status, "Invalid touchpoint",
                  "; ".join(f"{e['field'] or 'event'}: {e['message']}" for e in errors),
                  slug="invalid-touchpoint", extensions={"errors": errors,
                                                         "event_id": outcome.event_id})
