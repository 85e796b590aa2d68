"""The baseline: a bare FastAPI endpoint validating a pydantic model, nothing else."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Event(BaseModel):
    event_id: str
    channel: str
    type: str
    occurred_at: str
    identifiers: dict[str, str]
    traits: dict[str, str] = {}
    properties: dict[str, object] = {}


class Batch(BaseModel):
    events: list[Event]


@app.post("/v1/touchpoints", status_code=202)
async def one(event: Event) -> dict[str, str]:
    return {"event_id": event.event_id, "status": "accepted"}


@app.post("/v1/touchpoints/batch", status_code=202)
async def batch(body: Batch) -> dict[str, int]:
    return {"accepted": len(body.events)}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
