"""``/v1/profiles/{id}/erase`` and ``/v1/erasures/{receipt_id}``: the right to be forgotten."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from crm_eventstore import EventStore
from crm_profile.adapters.erasure_store import ErasureStore, Receipt
from crm_profile.app.erasure import Eraser, ProfileNotFound
from crm_profile.entrypoints.caused_by import caused_by
from crm_servicekit import Problem, ServiceContext, get_context, problem_responses
from crm_servicekit.apikeys import PROFILES_ERASE, ApiKey, require_scope

__all__ = ["erasure_router", "receipt_json"]

Eraser_ = Annotated[ApiKey, Depends(require_scope(PROFILES_ERASE))]
Context = Annotated[ServiceContext, Depends(get_context)]


def erasure_router(eraser: Eraser) -> APIRouter:
    router = APIRouter(tags=["erasure"])

    @router.post("/v1/profiles/{customer_id}/erase", status_code=202,
                 responses=problem_responses(401, 403, 404, 422))
    async def erase(customer_id: str, key: Eraser_, ctx: Context,
                    response: Response) -> dict[str, Any]:
        """Erase the person: their personal data becomes unreadable here at once and in
        every other service as it consumes ``ProfileErased``; their identifiers are
        suppressed. 202 with the receipt (200 if they were erased before)."""
        try:
            async with EventStore(ctx.engine).transaction() as uow:
                receipt, now = await eraser.erase(uow, ctx.vault, customer_id, key.key_id,
                                                  caused_by(key))
        except ProfileNotFound:
            raise Problem(404, "Profile not found", f"no profile {customer_id}",
                          slug="profile-not-found") from None
        response.status_code = 202 if now else 200
        response.headers["Location"] = f"/v1/erasures/{receipt.receipt_id}"
        return receipt_json(receipt)

    @router.get("/v1/erasures/{receipt_id}", responses=problem_responses(401, 403, 404))
    async def receipt(receipt_id: str, key: Eraser_, ctx: Context) -> dict[str, Any]:
        """The receipt: what was erased, where and when, and what was suppressed since."""
        async with ctx.engine.connect() as connection:
            found = await ErasureStore(connection).receipt(receipt_id)
        if found is None:
            raise Problem(404, "Receipt not found", f"no erasure receipt {receipt_id}",
                          slug="receipt-not-found")
        return receipt_json(found)

    return router


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """A receipt as the API shows it (it holds no personal data)."""
    return {
        "receipt_id": receipt.receipt_id,
        "customer_id": receipt.customer_id,
        "erased_ids": list(receipt.erased_ids),
        "erased_at": receipt.erased_at.isoformat() if receipt.erased_at else None,
        "requested_by": receipt.requested_by,
        "profile_service": {
            "identifiers_suppressed": receipt.identifiers,
            "touchpoints_erased": receipt.touchpoints,
            "events_redacted": receipt.events_redacted,
            "state_rows_scrubbed": receipt.rows_scrubbed,
        },
        "touchpoints_dropped_since": receipt.dropped_since,
    }
