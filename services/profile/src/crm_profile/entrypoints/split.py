"""``POST /v1/profiles/{id}/split``: move identifiers into a new profile (or preview it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from crm_contracts.identifiers import IdentifierType, InvalidValue, JunkValue, normalise_identifier
from crm_eventstore import EventStore
from crm_profile.adapters.erasure_store import ErasureStore
from crm_profile.app.split import SplitOutcome, SplitRequest, Splitter
from crm_profile.domain import identity
from crm_profile.entrypoints.caused_by import caused_by
from crm_profile.settings import ProfileSettings
from crm_servicekit import Problem, ServiceContext, get_context, problem_responses
from crm_servicekit.apikeys import PROFILES_WRITE, ApiKey, require_scope

__all__ = ["SplitBody", "split_router"]

Writer = Annotated[ApiKey, Depends(require_scope(PROFILES_WRITE))]
Context = Annotated[ServiceContext, Depends(get_context)]


class IdentifierIn(BaseModel):
    """An identifier as typed (normalised as at ingestion: ``Ada@Example.com `` is found)."""

    type: IdentifierType
    value: str = Field(min_length=1, max_length=254)


class SplitBody(BaseModel):
    """What to move out of the profile, and why."""

    identifiers: list[IdentifierIn] = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=3, max_length=500, description=(
        "why these identifiers are another person, for the audit trail (no personal data)"))
    dry_run: bool = Field(default=False, description="preview what would move; write nothing")


def split_router(settings: ProfileSettings) -> APIRouter:
    """The split route, under the service's identity rules and phone region."""
    splitter = Splitter(settings.identity_rules())
    region = settings.split_phone_region.upper()
    router = APIRouter(prefix="/v1/profiles", tags=["profiles"])

    @router.post("/{customer_id}/split",
                 responses={201: {"description": "the split was made"},
                            **problem_responses(401, 403, 404, 409, 410, 422)})
    async def split_profile(customer_id: str, body: SplitBody, key: Writer, ctx: Context,
                            response: Response) -> dict[str, Any]:
        """Move the identifiers into a new profile, with the touchpoints whose strongest
        identifier moves; record that the two groups never merge again. ``dry_run``: 200
        with what would move, nothing written. Otherwise 201 with the new customer id."""
        typed = _normalised(body.identifiers, region)
        await _not_erased(ctx, customer_id)
        request = SplitRequest(customer_id, frozenset(typed), body.reason, key.key_id,
                               body.dry_run)
        try:
            async with EventStore(ctx.engine).transaction() as uow:
                outcome = await splitter(uow, request, caused_by(key))
        except identity.SplitRefused as refused:
            raise _problem(refused, typed) from None
        if outcome.split_id is not None:
            response.status_code = 201
            response.headers["Location"] = f"/v1/profiles/{outcome.split.new_customer_id}"
        return _json(outcome, body.reason)

    return router


def _normalised(identifiers: list[IdentifierIn], region: str) -> list[str]:
    """``type:value`` of each identifier, in request order (422 naming the bad ones)."""
    typed, errors = [], []
    for n, given in enumerate(identifiers):
        try:
            value = normalise_identifier(given.type, given.value, region=region)
        except (InvalidValue, JunkValue) as exc:
            rule = exc.rule if isinstance(exc, InvalidValue) else "junk"
            errors.append(_field_error(n, "value", rule, str(exc)))
        else:
            typed.append(identity.make_identifier(given.type, value))
    if errors:
        raise Problem(422, "Invalid identifier", "an identifier is not a valid value",
                      slug="invalid-identifier", extensions={"errors": errors})
    return typed


async def _not_erased(ctx: ServiceContext, customer_id: str) -> None:
    async with ctx.engine.connect() as connection:
        receipt = await ErasureStore(connection).receipt_of(customer_id)
    if receipt is not None:
        raise Problem(410, "Profile erased", f"{customer_id} was erased", slug="profile-erased",
                      extensions={"receipt_id": receipt.receipt_id})



def _problem(refused: identity.SplitRefused, typed: list[str]) -> Problem:
    """The problem document of a refused split; offending identifiers are named by their
    place in the request."""
    detail = str(refused)
    match refused:
        case identity.UnknownProfile():
            return Problem(404, "Profile not found", detail, slug="profile-not-found")
        case identity.ProfileMergedAway():
            return Problem(409, "Profile merged away", detail, slug="profile-merged-away",
                           extensions={"survivor_id": refused.survivor_id})
        case identity.IdentifiersShared():
            return _identifier_problem("Shared identifiers cannot move", detail,
                                       "identifiers-shared", "shared", refused.identifiers, typed)
        case identity.IdentifiersNotInProfile():
            return _identifier_problem("Identifiers not in the profile", detail,
                                       "identifiers-not-in-profile", "not_in_profile",
                                       refused.identifiers, typed)
        case identity.NothingWouldRemain():
            return Problem(422, "Nothing would remain", detail, slug="nothing-would-remain",
                           extensions={"errors": [{"field": "identifiers", "location": "body",
                                                   "rule": "nothing_would_remain",
                                                   "message": detail}]})
        case identity.NotSeparable():
            return Problem(422, "Split not separable", detail, slug="split-not-separable",
                           extensions={"groups": [_typed(g) for g in refused.groups]})
    return Problem(422, "Split refused", detail, slug="split-refused")


def _identifier_problem(title: str, detail: str, slug: str, rule: str,
                        identifiers: frozenset[str], typed: list[str]) -> Problem:
    errors = [_field_error(n, "value", rule, f"{i} {rule.replace('_', ' ')}")
              for n, i in enumerate(typed) if i in identifiers]
    return Problem(422, title, detail, slug=slug, extensions={"errors": errors})


def _field_error(n: int, field: str, rule: str, message: str) -> dict[str, str]:
    return {"field": f"identifiers[{n}].{field}", "location": "body", "rule": rule,
            "message": message}


def _typed(identifiers: Iterable[str]) -> list[dict[str, str]]:
    return [{"type": i.partition(":")[0], "value": i.partition(":")[2]}
            for i in sorted(identifiers)]


def _json(outcome: SplitOutcome, reason: str) -> dict[str, Any]:
    done = outcome.split
    return {
        "dry_run": outcome.split_id is None,
        "customer_id": done.customer_id,
        "new_customer_id": done.new_customer_id if outcome.split_id else None,
        "split_event_id": outcome.split_id,
        "reason": reason,
        "identifiers": _typed(done.identifiers),
        "remaining_identifiers": _typed(done.fact.right),
        "touchpoints": sorted(done.touchpoints),
    }
