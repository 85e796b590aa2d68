"""The JSON shapes the touchpoint API answers with."""

from __future__ import annotations

from pydantic import BaseModel, Field

from crm_touchpoint.app.ingestion import Outcome, Status

__all__ = ["BatchResult", "EventResult", "ProblemItem", "batch_result", "event_result",
           "problem_items"]


class ProblemItem(BaseModel):
    field: str = Field(description="dotted path of the offending field; empty for the event")
    rule: str = Field(description="the rule it breaks, e.g. required, range, currency")
    message: str


class EventResult(BaseModel):
    index: int = Field(description="position of the event in the request")
    event_id: str | None
    status: str = Field(description="accepted | duplicate | rejected")
    problems: list[ProblemItem] = []
    warnings: list[str] = []


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[EventResult]


def event_result(index: int, outcome: Outcome) -> dict[str, object]:
    """The :class:`EventResult` document of ``outcome`` as plain JSON values (validating
    what the service itself built, through the model, costs more than building it)."""
    return {
        "index": index, "event_id": outcome.event_id, "status": outcome.status.value,
        "problems": problem_items(outcome), "warnings": list(outcome.warnings),
    }


def problem_items(outcome: Outcome) -> list[dict[str, str]]:
    """The :class:`ProblemItem` documents of ``outcome``'s problems."""
    return [{"field": p.field, "rule": p.rule, "message": p.message} for p in outcome.problems]


def batch_result(outcomes: list[Outcome]) -> dict[str, object]:
    """The :class:`BatchResult` document of ``outcomes`` as plain JSON values."""
    counts = dict.fromkeys(Status, 0)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return {"accepted": counts[Status.ACCEPTED], "duplicates": counts[Status.DUPLICATE],
            "rejected": counts[Status.REJECTED],
            "results": [event_result(index, outcome) for index, outcome in enumerate(outcomes)]}
