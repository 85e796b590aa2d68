"""``/v1/profiles``: explain a profile's identity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from crm_eventstore import EventStore
from crm_profile.adapters.explanations import explain
from crm_servicekit import Problem, ServiceContext, get_context, problem_responses
from crm_servicekit.apikeys import PROFILES_READ, ApiKey, require_scope

__all__ = ["profile_router"]

Reader = Annotated[ApiKey, Depends(require_scope(PROFILES_READ))]
Context = Annotated[ServiceContext, Depends(get_context)]


def profile_router() -> APIRouter:
    router = APIRouter(prefix="/v1/profiles", tags=["profiles"])

    @router.get("/{customer_id}/identity", responses=problem_responses(401, 403, 404))
    async def identity(customer_id: str, key: Reader, ctx: Context) -> dict[str, Any]:
        """Every identifier with when, how and why it was linked; every merge and refusal."""
        async with ctx.engine.connect() as connection:
            found = await explain(connection, EventStore(ctx.engine), customer_id)
        if found is None:
            raise Problem(404, "Profile not found", f"no profile {customer_id}",
                          slug="profile-not-found")
        return found.to_json()

    return router
