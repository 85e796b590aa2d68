"""Envelopes carry any catalogued event; anything else is refused with a reason."""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from crm.common.v1.types_pb2 import IDENTIFIER_TYPE_EMAIL, Identifier, Money
from crm.profiles.v1.profiles_pb2 import ProfileCreated
from crm.touchpoints.v1.touchpoints_pb2 import (
    CHANNEL_WEB,
    OrderItem,
    OrderProperties,
    TouchpointRecorded,
)
from crm_contracts import (
    Envelope,
    MalformedMessage,
    TraceContext,
    UnknownEventType,
    decode_envelope,
    encode_envelope,
    from_timestamp,
    pack_payload,
    set_timestamp,
    to_timestamp,
    unpack_payload,
)

OCCURRED = datetime(2025, 3, 14, 9, 26, 53, 589_793, tzinfo=UTC)


def a_touchpoint() -> TouchpointRecorded:
    return TouchpointRecorded(
        event_id=str(uuid.uuid4()),
        channel=CHANNEL_WEB,
        type="order",
        occurred_at=to_timestamp(OCCURRED),
        identifiers=[Identifier(type=IDENTIFIER_TYPE_EMAIL, value="ada@example.com")],
        traits={"city": "London"},
        order=OrderProperties(
            order_id="o-1",
            amount=Money(amount="19.98", currency="EUR"),
            items=[OrderItem(sku="s-1", name="Tea", quantity=2,
                             unit_price=Money(amount="9.99", currency="EUR"))],
        ),
        source_key_id="key-1",
    )


def an_envelope(event: TouchpointRecorded | None = None, **overrides: object) -> Envelope:
    """A complete envelope; an override of None clears the field."""
    event_type, payload = pack_payload(event or a_touchpoint())
    envelope = Envelope(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        schema_version=1,
        occurred_at=to_timestamp(OCCURRED),
        recorded_at=to_timestamp(OCCURRED + timedelta(seconds=1)),
        producer="touchpoint",
        customer_key="email:ada@example.com",
        correlation_id="req-1",
        causation_id="req-1",
        trace=TraceContext(traceparent=f"00-{'1' * 32}-{'2' * 16}-01"),
        stream_id="touchpoint-1",
        stream_version=3,
        position=42,
        payload=payload,
    )
    for name, value in overrides.items():
        if value is None:
            envelope.ClearField(name)
        else:
            setattr(envelope, name, value)
    return envelope


def test_an_envelope_round_trips_and_unpacks_to_its_typed_payload() -> None:
    touchpoint = a_touchpoint()
    envelope = an_envelope(touchpoint)
    decoded = decode_envelope(encode_envelope(envelope))
    assert decoded == envelope
    payload = unpack_payload(decoded)
    assert isinstance(payload, TouchpointRecorded)
    assert payload == touchpoint
    assert payload.WhichOneof("properties") == "order"


def test_pack_payload_names_the_event_by_its_full_protobuf_name() -> None:
    event = ProfileCreated(customer_id="c-1", source_event_id="e-1")
    event_type, payload = pack_payload(event)
    assert event_type == "crm.profiles.v1.ProfileCreated"
    assert ProfileCreated.FromString(payload) == event


def test_only_catalogued_events_can_be_packed() -> None:
    with pytest.raises(UnknownEventType):
        pack_payload(Money(amount="1", currency="EUR"))


def test_encoding_is_deterministic() -> None:
    envelope = an_envelope()
    reparsed = Envelope.FromString(envelope.SerializeToString())
    assert encode_envelope(envelope) == encode_envelope(reparsed)


@pytest.mark.parametrize(
    "garbage",
    [b"\xff\xff\xff\xff", b"not a protobuf at all", b"\x0a\x05ab", b"", b"\x0a\x02\xc3\x28"],
    ids=["invalid-tag", "text", "truncated", "empty", "invalid-utf8"],
)
def test_garbage_bytes_are_malformed(garbage: bytes) -> None:
    with pytest.raises(MalformedMessage, match="malformed envelope: "):
        decode_envelope(garbage)


@given(st.binary(max_size=200))
def test_decoding_arbitrary_bytes_never_fails_with_anything_but_malformed_message(
    data: bytes,
) -> None:
    with contextlib.suppress(MalformedMessage):
        decode_envelope(data)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"event_id": "not-a-uuid"}, "event_id 'not-a-uuid' is not a UUID"),
        ({"event_type": ""}, "event_type '' is not a full protobuf message name"),
        ({"event_type": "TouchpointRecorded"}, "is not a full protobuf message name"),
        ({"occurred_at": None}, "occurred_at is missing"),
    ],
)
def test_envelopes_breaking_the_contract_are_refused_both_ways(
    overrides: dict[str, object], reason: str
) -> None:
    envelope = an_envelope(None, **overrides)
    with pytest.raises(MalformedMessage, match=reason):
        encode_envelope(envelope)
    with pytest.raises(MalformedMessage, match=reason):
        decode_envelope(envelope.SerializeToString())


def _uuid_forms(value: uuid.UUID) -> list[str]:
    text = str(value)
    return [text, text.upper(), value.hex, f"{{{text}}}", f"urn:uuid:{text}", text[:-1],
            text + "0", text.replace("-", "_"), f" {text}", text[:8] + "-" + text[9:]]


@given(st.uuids(), st.text(max_size=40))
def test_an_event_id_is_accepted_exactly_when_it_reads_as_a_uuid(
    value: uuid.UUID, text: str
) -> None:
    for event_id in [*_uuid_forms(value), text]:
        try:
            uuid.UUID(event_id)
            reads = True
        except ValueError:
            reads = False
        data = an_envelope(event_id=event_id).SerializeToString()
        if reads:
            assert decode_envelope(data).event_id == event_id
        else:
            with pytest.raises(MalformedMessage, match="is not a UUID"):
                decode_envelope(data)


def test_decoding_keeps_fields_from_a_newer_envelope() -> None:
    newer = an_envelope().SerializeToString() + b"\xa0\x06\x01"  # field 100, varint 1
    decoded = decode_envelope(newer)
    assert decoded.SerializeToString() == newer


def test_an_unknown_event_type_is_refused_on_unpacking_not_on_decoding() -> None:
    data = encode_envelope(an_envelope(event_type="crm.future.v9.SomethingNew"))
    envelope = decode_envelope(data)
    with pytest.raises(UnknownEventType, match=re.escape("crm.future.v9.SomethingNew")):
        unpack_payload(envelope)


def test_a_payload_that_does_not_parse_is_malformed() -> None:
    envelope = an_envelope(payload=b"\xff\xff\xff")
    with pytest.raises(MalformedMessage, match=re.escape("crm.touchpoints.v1.TouchpointRecorded")):
        unpack_payload(envelope)


def test_timestamps_round_trip_as_aware_utc_datetimes() -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2025, 1, 2, 3, 4, 5, 678_901, tzinfo=paris)
    back = from_timestamp(to_timestamp(moment))
    assert back == moment
    assert back.tzinfo is UTC
    assert back.hour == 2


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    )
)
def test_every_aware_datetime_round_trips_through_a_timestamp(moment: datetime) -> None:
    assert from_timestamp(to_timestamp(moment)) == moment


@given(st.integers(min_value=-62_135_596_800, max_value=253_402_300_799),
       st.integers(min_value=0, max_value=999_999_999))
def test_reading_a_timestamp_gives_what_protobuf_gives(seconds: int, nanos: int) -> None:
    timestamp = Timestamp(seconds=seconds, nanos=nanos)
    read = from_timestamp(timestamp)
    assert read == timestamp.ToDatetime(tzinfo=UTC)
    assert read.tzinfo is UTC


@pytest.mark.parametrize(("seconds", "nanos"), [
    (-62_135_596_801, 0), (253_402_300_800, 0), (0, -1), (0, 1_000_000_000)])
def test_a_timestamp_out_of_range_is_refused(seconds: int, nanos: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        from_timestamp(Timestamp(seconds=seconds, nanos=nanos))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        to_timestamp(datetime(2025, 1, 1))


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-9, minutes=-30)),
                                               timezone(timedelta(hours=13))])))
def test_a_timestamp_is_the_protobuf_one_of_the_same_instant(moment: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(moment.astimezone(UTC))

    assert to_timestamp(moment) == expected
    assert from_timestamp(to_timestamp(moment)) == moment
    in_place = Timestamp(seconds=1, nanos=1)  # overwritten whole
    set_timestamp(in_place, moment)
    assert in_place == expected


def test_setting_a_naive_datetime_in_place_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        set_timestamp(Timestamp(), datetime(2025, 1, 1))
