"""The event catalogue lists exactly the messages marked as events in proto/."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message

from crm.common.v1 import envelope_pb2, types_pb2
from crm.profiles.v1 import profiles_pb2
from crm.touchpoints.v1 import touchpoints_pb2
from crm_contracts import (
    ContractError,
    UnknownEventType,
    event_types,
    generated_files,
    is_event,
    message_class,
)

DOCUMENTED_EVENTS = [
    touchpoints_pb2.TouchpointRecorded,
    profiles_pb2.TouchpointAttributed,
    profiles_pb2.ProfileCreated,
    profiles_pb2.IdentifierLinked,
    profiles_pb2.TraitObserved,
    profiles_pb2.ConsentChanged,
    profiles_pb2.ProfilesMerged,
    profiles_pb2.MergeBlocked,
    profiles_pb2.ProfileErased,
]


@pytest.mark.parametrize("cls", DOCUMENTED_EVENTS, ids=lambda cls: cls.__name__)
def test_the_catalogue_maps_each_event_type_to_its_generated_class(cls: type[Message]) -> None:
    assert message_class(cls.DESCRIPTOR.full_name) is cls


@pytest.mark.parametrize(
    "cls",
    [envelope_pb2.Envelope, types_pb2.Money, types_pb2.Identifier, touchpoints_pb2.OrderItem],
    ids=lambda cls: cls.__name__,
)
def test_building_blocks_are_not_events(cls: type[Message]) -> None:
    assert cls.DESCRIPTOR.full_name not in event_types()
    with pytest.raises(UnknownEventType):
        message_class(cls.DESCRIPTOR.full_name)


def test_event_types_are_unique_sorted_full_names() -> None:
    names = event_types()
    assert list(names) == sorted(set(names))
    assert all(message_class(name).DESCRIPTOR.full_name == name for name in names)


def test_the_catalogue_is_every_marked_top_level_message_of_the_generated_code() -> None:
    marked = {
        descriptor.full_name
        for file in generated_files()
        for descriptor in file.message_types_by_name.values()
        if is_event(descriptor)
    }
    assert set(event_types()) == marked


def test_an_unknown_event_type_is_a_contract_error_that_names_it() -> None:
    with pytest.raises(UnknownEventType, match=r"crm\.nowhere\.v1\.Nothing") as raised:
        message_class("crm.nowhere.v1.Nothing")
    assert isinstance(raised.value, ContractError)
    assert raised.value.event_type == "crm.nowhere.v1.Nothing"
