"""Chunks straight through the projection, against Postgres: a chunk of many customers
(stored a part at a time while the next part is folded), and a touchpoint that moves to
another customer in a later chunk."""

import itertools
import json
import uuid

from sqlalchemy import text
from view_world import START, attributed, visit

from crm.common.v1.envelope_pb2 import Envelope
from crm.profiles.v1 import profiles_pb2 as profiles
from crm_contracts import pack_payload, to_timestamp
from crm_customer_view.app.projection import CustomerViewProjection
from crm_customer_view.settings import CustomerViewSettings
from crm_eventstore import EventStore, create_engine
from crm_messaging import InboundMessage
from crm_messaging.tracing import TraceContext

# The profile service's store numbers its events: identity decisions are ordered by it.
_POSITIONS = itertools.count(1)


def _inbound(customer_id: str, message: object) -> InboundMessage:
    event_type, payload = pack_payload(message)  # type: ignore[arg-type]
    position = next(_POSITIONS)
    envelope = Envelope(event_id=str(uuid.uuid4()), event_type=event_type, schema_version=1,
                        occurred_at=to_timestamp(START), recorded_at=to_timestamp(START),
                        producer="profile", customer_key=customer_id, position=position,
                        payload=payload)
    trace = TraceContext(traceparent=f"00-{uuid.uuid4().hex}-{'1' * 16}-01",
                         correlation_id=str(uuid.uuid4()))
    return InboundMessage("crm.profiles.v1", 0, position, customer_id.encode(), envelope,
                          trace)


async def test_a_chunk_of_many_customers_stores_and_announces_every_record_once(
    settings: CustomerViewSettings,
) -> None:
    # 150 customers: more than two statements' worth of records (64 lineages each).
    people = [f"parts-{n:03d}" for n in range(150)]
    chunk = [_inbound(person, message) for n, person in enumerate(people)
             for message in attributed(person, visit(f"p{n}@parts.example.com",
                                                     f"+1415556{n:04d}", n))]
    engine = create_engine(settings.database_url, settings.db_schema)
    try:
        async with EventStore(engine).transaction() as uow:
            await CustomerViewProjection(settings.projection_config())(chunk, uow)
        async with engine.connect() as conn:
            records = set((await conn.execute(text(
                "SELECT customer_id FROM customer_records"))).scalars())
            emails = (await conn.execute(text(
                "SELECT count(*) FROM customer_identifiers WHERE type = 'email'"))).scalar_one()
            announced = (await conn.execute(text(
                "SELECT customer_key, count(*) FROM events GROUP BY customer_key"))).all()
    finally:
        await engine.dispose()

    assert records == set(people)
    assert emails == len(people)
    assert dict(announced) == dict.fromkeys(people, 1)


async def test_a_touchpoint_attributed_to_another_customer_leaves_its_earlier_holder(
    settings: CustomerViewSettings,
) -> None:
    # The second chunk names only the new holder: the earlier one is found from what was
    # filed under the touchpoint before (in the same round trip as the filing).
    touchpoint = visit("moving@example.com", "+14155550177", 0)
    engine = create_engine(settings.database_url, settings.db_schema)
    projection = CustomerViewProjection(settings.projection_config())
    try:
        async with EventStore(engine).transaction() as uow:
            await projection([_inbound("holder-a", m) for m in attributed("holder-a", touchpoint)],
                             uow)
        async with EventStore(engine).transaction() as uow:
            await projection([_inbound("holder-b", profiles.TouchpointAttributed(
                customer_id="holder-b", touchpoint=touchpoint))], uow)
        async with engine.connect() as conn:
            records = dict((await conn.execute(text(
                "SELECT customer_id, record FROM customer_records"))).all())
    finally:
        await engine.dispose()

    assert json.loads(records["holder-a"])["channels"] == {}
    assert list(json.loads(records["holder-b"])["channels"]) == ["web"]
