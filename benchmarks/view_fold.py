"""The customer-view fold: how long recomputing one record takes (the service does it on
every change), for a customer of 200 touchpoints folded from three merged profiles."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from benchmarks.harness import Measurement, Report, Stack
from crm.common.v1 import types_pb2
from crm.profiles.v1 import profiles_pb2 as profiles
from crm.touchpoints.v1 import touchpoints_pb2 as touchpoints
from crm_customer_view.domain import (
    EventMeta,
    Fact,
    ProjectionConfig,
    digest,
    facts_from_event,
    record_of,
    timeline,
)

T0 = datetime(2023, 1, 1, tzinfo=UTC)
CONFIG = ProjectionConfig(exchange_rates={"USD": Decimal("0.92")})


def ts(moment: datetime) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(moment)
    return timestamp


def a_touchpoint(n: int) -> touchpoints.TouchpointRecorded:
    message = touchpoints.TouchpointRecorded(
        event_id=f"tp-{n:05d}", occurred_at=ts(T0 + timedelta(hours=7 * n)),
        identifiers=[types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_EMAIL,
                                          value=f"person{n % 3}@example.com")],
        traits={"first_name": "Ada", "city": f"City {n % 5}"} if n % 4 == 0 else {})
    kind = n % 6
    if kind == 0:
        message.type, message.channel = "order", touchpoints.CHANNEL_WEB
        message.order.CopyFrom(touchpoints.OrderProperties(
            order_id=f"o-{n}", amount=types_pb2.Money(amount="49.90",
                                                      currency="USD" if n % 2 else "EUR")))
    elif kind == 1:
        message.type, message.channel = "call", touchpoints.CHANNEL_CALL_CENTER
        message.call.CopyFrom(touchpoints.CallProperties(duration_seconds=300, satisfaction=4))
    elif kind == 2:
        message.type, message.channel = "survey_response", touchpoints.CHANNEL_EMAIL
        message.survey_response.CopyFrom(touchpoints.SurveyResponseProperties(nps=8, csat=4))
    elif kind == 3:
        message.type, message.channel = "complaint", touchpoints.CHANNEL_CALL_CENTER
        message.complaint.CopyFrom(touchpoints.ComplaintProperties(category="billing",
                                                                   severity="low"))
    elif kind == 4:
        message.type, message.channel = "consent", touchpoints.CHANNEL_WEB
        message.consent.CopyFrom(touchpoints.ConsentProperties(
            channel="email", purpose="marketing", granted=n % 3 == 0))
    else:
        message.type, message.channel = "page_view", touchpoints.CHANNEL_WEB
        message.page_view.CopyFrom(touchpoints.PageViewProperties(url="https://shop.test/"))
    return message


def a_busy_customer(touchpoint_count: int = 200) -> list[Fact]:
    """One customer (three merged profiles) with ``touchpoint_count`` touchpoints, links,
    traits and consents: about the facts the service folds per change for such a customer."""
    messages: list[Message] = []
    owners = ("c1", "c2", "c3")
    for n in range(touchpoint_count):
        messages.append(profiles.TouchpointAttributed(customer_id=owners[n % 3],
                                                      touchpoint=a_touchpoint(n)))
    for n, owner in enumerate(owners):
        email = types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_EMAIL,
                                     value=f"person{n}@example.com")
        # A new profile carries its first links, as the profile service publishes it.
        messages.append(profiles.ProfileCreated(customer_id=owner, occurred_at=ts(T0), links=[
            profiles.IdentifierLinked(customer_id=owner, identifier=email)]))
        messages.append(profiles.TraitObserved(customer_id=owner, name="last_name",
                                               value="Lovelace", source="back_office",
                                               occurred_at=ts(T0 + timedelta(days=n))))
    messages.append(profiles.ProfilesMerged(survivor_id="c1", merged_away_id="c2"))
    messages.append(profiles.ProfilesMerged(survivor_id="c1", merged_away_id="c3"))
    facts: list[Fact] = []
    for position, message in enumerate(messages, 1):
        meta = EventMeta(f"ev-{position:05d}", position, T0 + timedelta(hours=position))
        facts += facts_from_event(message.DESCRIPTOR.full_name, message, meta)
    return facts


def _timings(work: object, runs: int = 50) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


async def run(stack: Stack, report: Report) -> None:
    print("customer view: folding one record", flush=True)
    facts = a_busy_customer(200)
    record = record_of("c1", facts, CONFIG)
    for name, work in (("record_of", lambda: record_of("c1", facts, CONFIG)),
                       ("timeline", lambda: timeline("c1", facts)),
                       ("digest", lambda: digest(record))):  # type: ignore[arg-type]
        samples = _timings(work)
        report.add(Measurement("view fold", f"{name}, 200 touchpoints, 3 merged profiles, p50",
                               samples[len(samples) // 2], "ms"))
