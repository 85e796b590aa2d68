"""Profile events to feed the customer view in tests."""

import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from crm.common.v1.envelope_pb2 import Envelope
from crm.common.v1.types_pb2 import Identifier, IdentifierType
from crm.profiles.v1 import profiles_pb2 as profiles
from crm.touchpoints.v1.touchpoints_pb2 import Channel, PageViewProperties, TouchpointRecorded
from crm_contracts import encode_envelope, pack_payload, to_timestamp

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


def merged(survivor: str, away: str) -> Message:
    return profiles.ProfilesMerged(
        survivor_id=survivor,
        merged_away_id=away,
        bridging_event_id=str(uuid.uuid4()),
        rule="bridging",
    )


async def publish(producer: AIOKafkaProducer, topic: str, key: str, *messages: Message) -> None:
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
        )
        await producer.send_and_wait(topic, encode_envelope(envelope), key=key.encode())
