import uuid
from datetime import UTC, datetime

from crm.common.v1.envelope_pb2 import Envelope
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import encode_envelope, pack_payload, to_timestamp
from crm_eventstore import NewEvent

OCCURRED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def touchpoint_event(topic: str, key: str, n: int = 0) -> NewEvent:
    event_type, payload = pack_payload(TouchpointRecorded(event_id=str(uuid.uuid4()), type=f"t{n}"))
    return NewEvent(event_type, payload, OCCURRED, topic=topic, customer_key=key)


def envelope_bytes(kind: str = "ok", event_id: str | None = None) -> bytes:
    event_type, payload = pack_payload(TouchpointRecorded(event_id=str(uuid.uuid4()), type=kind))
    return encode_envelope(Envelope(
        event_id=event_id or str(uuid.uuid4()), event_type=event_type, schema_version=1,
        occurred_at=to_timestamp(OCCURRED), recorded_at=to_timestamp(OCCURRED),
        producer="test", customer_key="c-1", payload=payload))
