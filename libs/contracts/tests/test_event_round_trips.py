"""Every catalogued event, and every message it is built from, survives the wire."""

from __future__ import annotations

import pytest
from contracts_messages import all_messages, messages, populated, widest_oneof
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_contracts import event_types, generated_files, message_class

EVENT_TYPES = event_types()
ALL_MESSAGES = sorted(all_messages(generated_files()), key=lambda d: d.full_name)


def round_trip(message: Message) -> Message:
    return type(message).FromString(message.SerializeToString())


def test_the_catalogue_is_not_empty() -> None:
    assert "crm.touchpoints.v1.TouchpointRecorded" in EVENT_TYPES


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_catalogued_event_round_trips_with_every_field_set(event_type: str) -> None:
    descriptor = message_class(event_type).DESCRIPTOR
    fields_set: set[str] = set()
    for oneof_choice in range(widest_oneof(descriptor)):
        event = populated(descriptor, oneof_choice)
        assert round_trip(event) == event
        fields_set |= {field.name for field, _ in event.ListFields()}
    assert fields_set == {field.name for field in descriptor.fields}


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_catalogued_event_round_trips(event_type: str) -> None:
    descriptor = message_class(event_type).DESCRIPTOR

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(event=messages(descriptor))
    def check(event: Message) -> None:
        decoded = round_trip(event)
        assert decoded == event
        assert decoded.SerializeToString(deterministic=True) == event.SerializeToString(
            deterministic=True
        )

    check()


@pytest.mark.parametrize("descriptor", ALL_MESSAGES, ids=lambda d: d.full_name)
def test_every_generated_message_round_trips_with_every_field_set(descriptor: Descriptor) -> None:
    for oneof_choice in range(widest_oneof(descriptor)):
        message = populated(descriptor, oneof_choice)
        assert round_trip(message) == message


@given(st.data())
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_populated_touchpoints_set_each_typed_properties_member(data: st.DataObject) -> None:
    descriptor = message_class("crm.touchpoints.v1.TouchpointRecorded").DESCRIPTOR
    members = descriptor.oneofs_by_name["properties"].fields
    choice = data.draw(st.integers(0, len(members) - 1))
    touchpoint = populated(descriptor, choice)
    assert touchpoint.WhichOneof("properties") == members[choice].name
