"""Touchpoints to feed the profile service in tests, and what to read back."""

import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer, ConsumerRecord
from google.protobuf.message import Message
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.common.v1.envelope_pb2 import Envelope
from crm.common.v1.types_pb2 import Identifier, IdentifierType
from crm.touchpoints.v1.touchpoints_pb2 import Channel, TouchpointRecorded
from crm_contracts import encode_envelope, pack_payload, to_timestamp
from crm_devstack.testing import read_topic, unpacked
from crm_eventstore import create_engine
from crm_messaging import InboundMessage, KeyVault
from crm_messaging.topics import PROFILES
from crm_messaging.tracing import TraceContext
from crm_profile.settings import ProfileSettings

TYPES = {"customer_number": IdentifierType.IDENTIFIER_TYPE_CUSTOMER_NUMBER,
         "email": IdentifierType.IDENTIFIER_TYPE_EMAIL,
         "phone": IdentifierType.IDENTIFIER_TYPE_PHONE,
         "anonymous_id": IdentifierType.IDENTIFIER_TYPE_ANONYMOUS_ID,
         "loyalty_id": IdentifierType.IDENTIFIER_TYPE_LOYALTY_ID}
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TRACE = TraceContext("00-" + "1" * 32 + "-" + "2" * 16 + "-01", "")


def touchpoint(*identifiers: str, minute: int = 0,
               channel: "Channel.ValueType" = Channel.CHANNEL_WEB) -> TouchpointRecorded:
    """A touchpoint carrying ``type:value`` identifiers."""
    return TouchpointRecorded(
        event_id=str(uuid.uuid4()), channel=channel, type="page_view",
        occurred_at=to_timestamp(START + timedelta(minutes=minute)),
        identifiers=[Identifier(type=TYPES[i.split(":", 1)[0]], value=i.split(":", 1)[1])
                     for i in identifiers])


async def send(producer: AIOKafkaProducer, topic: str, *touchpoints: TouchpointRecorded) -> None:
    for tp in touchpoints:
        event_type, payload = pack_payload(tp)
        envelope = Envelope(event_id=tp.event_id, event_type=event_type, schema_version=1,
                            occurred_at=tp.occurred_at, recorded_at=tp.occurred_at,
                            producer="test", customer_key=tp.identifiers[0].value,
                            payload=payload)
        await producer.send_and_wait(topic, encode_envelope(envelope),
                                     key=tp.identifiers[0].value.encode())


async def owners(engine: AsyncEngine) -> dict[str, str]:
    """identifier -> live customer id (shared identifiers are not owned)."""
    async with engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT customer_id, unnest(identifiers) FROM identity_profiles"
            " WHERE merged_into IS NULL"))
        return {identifier: customer for customer, identifier in rows}


async def attributed(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT touchpoint_id, customer_id FROM identity_attribution"))
        return dict(rows.all())


async def shared(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(text("SELECT identifier FROM identity_shared"))).scalars())


async def published(settings: ProfileSettings, topic: str = PROFILES.name,
                    ) -> list[tuple[ConsumerRecord, Message | None]]:
    """Every record on ``topic`` (crm.profiles.v1 unless said; shared by the session) with
    its payload, opened with the key vault; ``None`` for one whose key an erasure
    destroyed."""
    records = await read_topic(settings.kafka_bootstrap_servers, topic, timeout=1)
    engine = create_engine(settings.vault_database_url, settings.vault_schema, pool_size=1)
    try:
        return list(zip(records, await unpacked(records, KeyVault(engine)), strict=True))
    finally:
        await engine.dispose()


def inbound(offset: int, tp: TouchpointRecorded) -> InboundMessage:
    """``tp`` as the consumer kit hands it to the resolver (opened, at ``offset``)."""
    event_type, payload = pack_payload(tp)
    envelope = Envelope(event_id=tp.event_id, event_type=event_type, schema_version=1,
                        occurred_at=tp.occurred_at, recorded_at=tp.occurred_at,
                        producer="test", customer_key=tp.identifiers[0].value, payload=payload)
    return InboundMessage("touchpoints", 0, offset, None, envelope, TRACE)
