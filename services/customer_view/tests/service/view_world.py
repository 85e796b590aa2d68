"""Profile events to feed the customer view in tests, and a search of its tables."""

import asyncio
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from sqlalchemy import text

from crm.common.v1.envelope_pb2 import Envelope
from crm.common.v1.types_pb2 import Identifier, IdentifierType, Money
from crm.profiles.v1 import profiles_pb2 as profiles
from crm.touchpoints.v1.touchpoints_pb2 import (
    Channel,
    OrderProperties,
    PageViewProperties,
    SurveyResponseProperties,
    TouchpointRecorded,
)
from crm_contracts import channel_name, encode_envelope, pack_payload, to_timestamp
from crm_contracts.privacy import customer_key_id
from crm_eventstore import create_engine
from crm_messaging import KeyVault
from crm_messaging.sealing import seal

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
_position = iter(range(1, 1_000_000))


def visit(email: str, phone: str, minute: int, first_name: str = "") -> TouchpointRecorded:
    tp = TouchpointRecorded(
        event_id=str(uuid.uuid4()),
        channel=Channel.CHANNEL_WEB,
        type="page_view",
        occurred_at=to_timestamp(START + timedelta(minutes=minute)),
        identifiers=[
            Identifier(type=IdentifierType.IDENTIFIER_TYPE_EMAIL, value=email),
            Identifier(type=IdentifierType.IDENTIFIER_TYPE_PHONE, value=phone),
        ],
        page_view=PageViewProperties(url="https://shop.example.com/"),
    )
    if first_name:
        tp.traits["first_name"] = first_name
    return tp


def survey(email: str, minute: int, comment: str, nps: int = 9) -> TouchpointRecorded:
    """A survey answer by email, with a free-text comment."""
    return TouchpointRecorded(
        event_id=str(uuid.uuid4()), channel=Channel.CHANNEL_EMAIL, type="survey_response",
        occurred_at=to_timestamp(START + timedelta(minutes=minute)),
        identifiers=[Identifier(type=IdentifierType.IDENTIFIER_TYPE_EMAIL, value=email)],
        survey_response=SurveyResponseProperties(nps=nps, comment=comment),
    )


def order(email: str, minute: int, amount: str) -> TouchpointRecorded:
    """A web order in EUR (the view's default base currency)."""
    return TouchpointRecorded(
        event_id=str(uuid.uuid4()), channel=Channel.CHANNEL_WEB, type="order",
        occurred_at=to_timestamp(START + timedelta(minutes=minute)),
        identifiers=[Identifier(type=IdentifierType.IDENTIFIER_TYPE_EMAIL, value=email)],
        order=OrderProperties(order_id=str(uuid.uuid4()),
                              amount=Money(amount=amount, currency="EUR")),
    )


def trait(customer_id: str, name: str, value: str) -> Message:
    return profiles.TraitObserved(customer_id=customer_id, name=name, value=value,
                                  source="back_office", occurred_at=to_timestamp(START))


def erased(customer_id: str) -> Message:
    return profiles.ProfileErased(customer_id=customer_id, erased_at=to_timestamp(START),
                                  receipt_id=str(uuid.uuid4()))


def attributed(customer_id: str, touchpoint: TouchpointRecorded) -> list[Message]:
    """What the profile service says of a touchpoint: its identifiers linked, then it."""
    links: list[Message] = [
        profiles.IdentifierLinked(
            customer_id=customer_id,
            identifier=identifier,
            source_event_id=touchpoint.event_id,
            rule="seen_together",
            assurance=profiles.ASSURANCE_SELF_ASSERTED,
        )
        for identifier in touchpoint.identifiers
    ]
    return [*links, profiles.TouchpointAttributed(customer_id=customer_id, touchpoint=touchpoint)]


def observed(customer_id: str, touchpoint: TouchpointRecorded) -> list[Message]:
    """What earlier versions of the profile service said a touchpoint told of its
    customer, which history keeps (publish it with the touchpoint's id as causation)."""
    source = channel_name(touchpoint.channel)
    return [profiles.TraitObserved(customer_id=customer_id, name=name, value=value,
                                   source=source, occurred_at=touchpoint.occurred_at)
            for name, value in sorted(touchpoint.traits.items())]


def merged(survivor: str, away: str) -> Message:
    return profiles.ProfilesMerged(
        survivor_id=survivor,
        merged_away_id=away,
        bridging_event_id=str(uuid.uuid4()),
        rule="bridging",
    )


async def publish(
    producer: AIOKafkaProducer, topic: str, key: str, *messages: Message,
    causation_id: str = "", vault: KeyVault | None = None,
) -> list[Envelope]:
    """Send ``messages`` as the profile service would (keyed by ``key``, sealed by the
    customer's key when given a ``vault``); the envelopes, unsealed."""
    secret = (await vault.issue([customer_key_id(key)]))[customer_key_id(key)] if vault else None
    sent = []
    deliveries = []
    for message in messages:
        event_type, payload = pack_payload(message)
        now = to_timestamp(START)
        envelope = Envelope(
            event_id=str(uuid.uuid4()),
            event_type=event_type,
            schema_version=1,
            occurred_at=now,
            recorded_at=now,
            producer="profile",
            customer_key=key,
            position=next(_position),
            payload=payload,
            causation_id=causation_id,
        )
        wire = Envelope()
        wire.CopyFrom(envelope)
        if secret is not None:
            wire.payload = seal(payload, event_id=envelope.event_id, secret=secret)
            wire.sealed_by = customer_key_id(key)
        deliveries.append(await producer.send(topic, encode_envelope(wire), key=key.encode()))
        sent.append(envelope)
    # Awaited together: in one record batch, as the relay sends them.
    await asyncio.gather(*deliveries)
    return sent


_TABLES = text("SELECT table_name FROM information_schema.tables WHERE table_schema = :schema")
_BYTEA = text("""SELECT table_name, column_name FROM information_schema.columns
                 WHERE table_schema = :schema AND data_type = 'bytea'""")


async def pii_in_schema(database_url: str, schema: str, needles: Iterable[str]) -> set[str]:
    """``table: needle`` for each needle found in a table of ``schema``: every row as
    text, and every bytea value as bytes (a protobuf payload is no text)."""
    needles = list(needles)
    engine = create_engine(database_url, schema)
    found: set[str] = set()
    try:
        async with engine.connect() as conn:
            for (table,) in (await conn.execute(_TABLES, {"schema": schema})).all():
                rows = await conn.execute(text(f'SELECT t::text FROM "{table}" t'))
                dump = "\n".join(row[0] for row in rows)
                found |= {f"{table}: {n}" for n in needles if n in dump}
            for table, column in (await conn.execute(_BYTEA, {"schema": schema})).all():
                values = await conn.execute(text(f'SELECT "{column}" FROM "{table}"'))
                blob = b"\n".join(bytes(v[0]) for v in values if v[0] is not None)
                found |= {f"{table}.{column}: {n}" for n in needles if n.encode() in blob}
    finally:
        await engine.dispose()
    return found
