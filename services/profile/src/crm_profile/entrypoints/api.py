"""``/v1/profiles``: read a profile, explain its identity, edit traits and consent from the
back office."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from crm.profiles.v1 import profiles_pb2 as wire
from crm_contracts import to_timestamp
from crm_contracts.consent import ConsentChannel, ConsentPurpose
from crm_eventstore import EventStore, UnitOfWork
from crm_profile.adapters.erasure_store import ErasureStore
from crm_profile.adapters.explanations import explanation, splits_of
from crm_profile.adapters.identity_store import IdentityStore
from crm_profile.adapters.profiles import StoredProfile, load_profile
from crm_profile.app.profile_events import published
from crm_profile.app.profile_view import profile_json
from crm_profile.entrypoints.caused_by import caused_by
from crm_servicekit import Problem, ServiceContext, get_context, problem_responses
from crm_servicekit.apikeys import PROFILES_READ, PROFILES_WRITE, ApiKey, require_scope

__all__ = ["profile_router"]

Reader = Annotated[ApiKey, Depends(require_scope(PROFILES_READ))]
Writer = Annotated[ApiKey, Depends(require_scope(PROFILES_WRITE))]
Context = Annotated[ServiceContext, Depends(get_context)]

_FUTURE_TOLERANCE = timedelta(minutes=5)
_TRAIT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class TraitEdit(BaseModel):
    """Back-office trait values; they win over older observations, lose to newer ones."""

    traits: dict[str, Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=20)
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when the value became true (default: now)")

    @field_validator("traits")
    @classmethod
    def _names(cls, traits: dict[str, str]) -> dict[str, str]:
        for name in traits:
            if not _TRAIT_NAME.match(name):
                raise ValueError(f"trait name {name!r} must match {_TRAIT_NAME.pattern}")
        return traits


class ConsentEdit(BaseModel):
    """A consent given or withdrawn outside any touchpoint (a signed form, a call)."""

    channel: ConsentChannel
    purpose: ConsentPurpose
    state: Literal["granted", "denied"]
    evidence: str = Field(min_length=3, max_length=200, description=(
        "how it was obtained, e.g. 'signed form 2026-11-20, ticket 4711' (no personal data)"))
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when the person gave or withdrew it (default: now)")

    @field_validator("occurred_at")
    @classmethod
    def _not_in_the_future(cls, when: datetime | None) -> datetime | None:
        if when is not None and when > datetime.now(UTC) + _FUTURE_TOLERANCE:
            raise ValueError("occurred_at is more than 5 minutes in the future")
        return when


def profile_router() -> APIRouter:
    router = APIRouter(prefix="/v1/profiles", tags=["profiles"])

    @router.get("/{customer_id}", responses=problem_responses(401, 403, 404, 410))
    async def read(customer_id: str, key: Reader, ctx: Context) -> dict[str, Any]:
        """The profile: identifiers, traits (latest wins) and consent, with evidence."""
        return profile_json(await _profile(ctx, customer_id))

    @router.get("/{customer_id}/identity", responses=problem_responses(401, 403, 404, 410))
    async def identity(customer_id: str, key: Reader, ctx: Context) -> dict[str, Any]:
        """Every identifier with when, how and why it was linked; every merge, refusal and
        split, and the never-merge facts about its identifiers."""
        profile = await _profile(ctx, customer_id)
        return explanation(profile, await splits_of(ctx.engine, profile))

    @router.patch("/{customer_id}/traits", responses=problem_responses(401, 403, 404, 422))
    async def edit_traits(customer_id: str, edit: TraitEdit, key: Writer,
                          ctx: Context) -> dict[str, Any]:
        """Record back-office trait values (source ``back_office``) and return the profile."""
        profile = await _profile(ctx, customer_id)
        when = edit.occurred_at or datetime.now(UTC)
        metadata = caused_by(key)
        async with _editing(ctx, profile.customer_id) as uow:
            await uow.append_streams([published(profile.customer_id, wire.TraitObserved(
                customer_id=profile.customer_id, name=name, value=value, source="back_office",
                occurred_at=to_timestamp(when)), when, metadata)
                for name, value in sorted(edit.traits.items())])
        return profile_json(await _profile(ctx, profile.customer_id))

    @router.put("/{customer_id}/consent", responses=problem_responses(401, 403, 404, 410, 422))
    async def edit_consent(customer_id: str, edit: ConsentEdit, key: Writer,
                           ctx: Context) -> dict[str, Any]:
        """Record a consent state with its evidence; the latest ``occurred_at`` wins
        within a profile, the most restrictive across merged ones. Returns the profile."""
        profile = await _profile(ctx, customer_id)
        when = edit.occurred_at or datetime.now(UTC)
        state = wire.CONSENT_STATE_GRANTED if edit.state == "granted" else wire.CONSENT_STATE_DENIED
        async with _editing(ctx, profile.customer_id) as uow:
            await uow.append_streams([published(profile.customer_id, wire.ConsentChanged(
                customer_id=profile.customer_id, channel=edit.channel, purpose=edit.purpose,
                state=state, occurred_at=to_timestamp(when), evidence=edit.evidence,
                recorded_by=key.key_id), when, caused_by(key))])
        return profile_json(await _profile(ctx, profile.customer_id))

    return router


@asynccontextmanager
async def _editing(ctx: ServiceContext, customer_id: str) -> AsyncIterator[UnitOfWork]:
    """A transaction that appends to a profile's stream in turn with identity
    resolution: it holds the profile as resolution's fast lane does (the shared identity
    lock, then the profile's own), so neither append finds the stream moved under it and
    has to be retried."""
    async with EventStore(ctx.engine).transaction() as uow:
        identity = IdentityStore(uow.connection)
        await identity.lock(shared=True)
        await identity.lock_profiles([customer_id])
        yield uow


async def _profile(ctx: ServiceContext, customer_id: str) -> StoredProfile:
    async with ctx.reads.connect() as connection:
        if (receipt := await ErasureStore(connection).receipt_of(customer_id)) is not None:
            raise Problem(410, "Profile erased", f"{customer_id} was erased",
                          slug="profile-erased", extensions={"receipt_id": receipt.receipt_id})
        found = await load_profile(connection, EventStore(ctx.engine), customer_id)
    if found is None:
        raise Problem(404, "Profile not found", f"no profile {customer_id}",
                      slug="profile-not-found")
    return found
