"""Problem documents in the OpenAPI description.

:func:`problem_responses` documents error statuses of a route; :func:`with_problem_schemas`
adds the ``Problem`` schema to the components and describes FastAPI's automatic 422
responses as the problem documents they really are.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from crm_servicekit.problems import PROBLEM_MEDIA_TYPE, status_title

__all__ = ["FieldError", "ProblemDocument", "problem_responses", "with_problem_schemas"]

_REF = "#/components/schemas/{model}"


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str
    location: str
    rule: str
    message: str


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    correlation_id: str | None = None
    errors: list[FieldError] | None = None


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="ProblemDocument")}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` metadata for a route that may answer ``statuses`` as problems."""
    return {status: {"description": status_title(status), "content": _problem_content()}
            for status in statuses}


def with_problem_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the problem schemas to ``schema`` and point every 422 response at them."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ProblemDocument" in components:
        return schema
    _, definitions = models_json_schema(
        [(ProblemDocument, "serialization")], ref_template=_REF
    )
    components.update(definitions.get("$defs", {}))
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if "422" in responses:
                responses["422"] = {"description": status_title(422),
                                    "content": _problem_content()}
    _drop_unreferenced(schema, components, ("HTTPValidationError", "ValidationError"))
    return schema


def _drop_unreferenced(
    schema: dict[str, Any], components: dict[str, Any], names: tuple[str, ...]
) -> None:
    for name in names:
        if name not in components:
            continue
        definition = components.pop(name)
        if _REF.format(model=name) in json.dumps(schema):
            components[name] = definition
