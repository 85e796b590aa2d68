"""``/v1/customers``: the unified record by id or by any identifier, its timeline, a list."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from crm_contracts.identifiers import InvalidValue, JunkValue, normalise_identifier
from crm_customer_view.adapters.view_store import StoredRecord, ViewStore
from crm_customer_view.app.projection import lineage_facts
from crm_customer_view.domain import timeline
from crm_servicekit import Problem, ServiceContext, get_context, problem_responses
from crm_servicekit.apikeys import CUSTOMERS_READ, CUSTOMERS_READ_PII, ApiKey, require_scope

__all__ = ["customer_router"]

Reader = Annotated[ApiKey, Depends(require_scope(CUSTOMERS_READ))]
Context = Annotated[ServiceContext, Depends(get_context)]
IdentifierKind = Literal["customer_number", "loyalty_id", "email", "phone", "anonymous_id"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def customer_router(phone_region: str) -> APIRouter:
    router = APIRouter(prefix="/v1/customers", tags=["customers"])

    @router.get("/lookup", responses=problem_responses(401, 403, 404, 422))
    async def lookup(type: IdentifierKind, value: Annotated[str, Query(max_length=254)],
                     key: Reader, ctx: Context) -> Response:
        """The record found by any identifier (the raw value is normalised as at ingestion)."""
        try:
            normalised = normalise_identifier(type, value, region=phone_region)
        except (InvalidValue, JunkValue) as exc:
            raise Problem(422, "Invalid identifier", f"{type}: {exc}", slug="invalid-identifier",
                          extensions={"errors": [{"field": "value", "rule": "pattern",
                                                  "message": str(exc)}]}) from None
        async with ctx.reads.connect() as conn:
            document = await ViewStore(conn).document_by_identifier(
                type, normalised, pii=_may_see_pii(key))
        if document is None:
            raise Problem(404, "Customer not found", f"no customer with this {type}",
                          slug="customer-not-found")
        return _json(document)

    @router.get("/{customer_id}", responses=problem_responses(401, 403, 404))
    async def read(customer_id: str, key: Reader, ctx: Context) -> Response:
        """The unified record; a merged-away id answers with the survivor's record."""
        async with ctx.reads.connect() as conn:
            document = await ViewStore(conn).document(customer_id, pii=_may_see_pii(key))
        if document is None:
            raise _not_found(customer_id)
        return _json(document)

    @router.get("/{customer_id}/timeline", responses=problem_responses(401, 403, 404, 422))
    async def history(
        customer_id: str, key: Reader, ctx: Context,
        limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None,
        channel: str | None = None, type: str | None = None,
    ) -> dict[str, Any]:
        """Every interaction, newest first, cursor-paginated, filtered by channel and type."""
        after = _decode_cursor(cursor)
        async with ctx.reads.connect() as conn:
            store = ViewStore(conn)
            if await store.record(customer_id) is None:
                raise _not_found(customer_id)
            entries = timeline(customer_id, await lineage_facts(store, customer_id),
                               channel=channel, type=type)
        if after is not None:
            entries = [e for e in entries if (e.position[0].isoformat(), e.position[1]) < after]
        page = entries[:limit]
        more = len(entries) > limit
        return {"customer_id": customer_id,
                "items": [e.to_json(mask_pii=not _may_see_pii(key)) for e in page],
                "next_cursor": _encode_cursor(page[-1].position) if more and page else None}

    @router.get("", responses=problem_responses(401, 403, 422))
    async def listing(
        key: Reader, ctx: Context, updated_since: datetime | None = None,
        segment: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Records for internal apps, oldest change first (``updated_since``, cursor)."""
        since, after = _list_position(cursor, updated_since)
        async with ctx.reads.connect() as conn:
            rows = await ViewStore(conn).updated_since(since, after, limit + 1)
        if segment is not None:
            rows = [r for r in rows if segment in ((r.record or {}).get("segments") or [])]
        page = rows[:limit]
        return {"items": [_visible(r, key) for r in page],
                "next_cursor": _encode_list_cursor(page[-1]) if len(rows) > limit else None}

    return router


def _json(document: str) -> Response:
    # Postgres wrote the JSON: sent as it is, not parsed and written again.
    return Response(content=document, media_type="application/json")


def _visible(stored: StoredRecord, key: ApiKey) -> dict[str, Any]:
    body = stored.record if _may_see_pii(key) else stored.masked
    return dict(body or {}) | {"updated_at": stored.updated_at.isoformat()}


def _may_see_pii(key: ApiKey) -> bool:
    return key.has_scope(CUSTOMERS_READ_PII)


def _not_found(customer_id: str) -> Problem:
    return Problem(404, "Customer not found", f"no customer {customer_id}",
                   slug="customer-not-found")


def _encode_cursor(position: tuple[datetime, str]) -> str:
    raw = json.dumps([position[0].isoformat(), position[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if cursor is None:
        return None
    try:
        moment, event_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(datetime.fromisoformat(moment).isoformat()), str(event_id)
    except (ValueError, TypeError):
        raise Problem(422, "Invalid cursor", "the cursor is not one this API returned",
                      slug="invalid-cursor") from None


def _encode_list_cursor(stored: StoredRecord) -> str:
    return _encode_cursor((stored.updated_at, stored.customer_id))


def _list_position(cursor: str | None, since: datetime | None) -> tuple[datetime, str]:
    decoded = _decode_cursor(cursor)
    if decoded is not None:
        return datetime.fromisoformat(decoded[0]), decoded[1]
    start = since or _EPOCH
    if start.tzinfo is None:
        raise Problem(422, "Invalid updated_since", "updated_since needs a timezone offset",
                      slug="invalid-query")
    return start, ""
