"""Builders of populated protobuf messages, driven by descriptors only.

Nothing here knows our message types, so a new event is covered by the round-trip
tests as soon as it is catalogued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, FileDescriptor, OneofDescriptor
from google.protobuf.descriptor_pb2 import DescriptorProto
from google.protobuf.message import Message
from hypothesis import strategies as st

F = FieldDescriptor
# Well-known types are recursive (Struct -> Value -> ListValue -> Value ...).
MAX_DEPTH = 4

_INT_RANGES = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1),
    F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1),
    F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1),
    F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1),
    F.TYPE_FIXED64: (0, 2**64 - 1),
}


def all_messages(files: tuple[FileDescriptor, ...]) -> Iterator[Descriptor]:
    """Every message of the files, nested ones included (map entries excluded)."""
    def walk(descriptor: Descriptor) -> Iterator[Descriptor]:
        if not descriptor.GetOptions().map_entry:
            yield descriptor
        for nested in descriptor.nested_types:
            yield from walk(nested)

    for file in files:
        for descriptor in file.message_types_by_name.values():
            yield from walk(descriptor)


def real_oneofs(descriptor: Descriptor) -> list[OneofDescriptor]:
    """Declared oneofs, without the synthetic ones behind proto3 ``optional`` fields."""
    proto = DescriptorProto()
    descriptor.CopyToProto(proto)
    optional = {field.name for field in proto.field if field.proto3_optional}
    return [
        oneof for oneof in descriptor.oneofs
        if not (len(oneof.fields) == 1 and oneof.fields[0].name in optional)
    ]


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and bool(field.message_type.GetOptions().map_entry)


def _fill(
    message: Message,
    field: FieldDescriptor,
    values: list[Any],
    fill_message: Callable[[Message], None],
) -> None:
    """Put ``values`` into ``field``; message values are filled by ``fill_message``."""
    if _is_map(field):
        value_field = field.message_type.fields_by_name["value"]
        container = getattr(message, field.name)
        for key, value in values:
            if value_field.message_type is not None:
                fill_message(container[key])
            else:
                container[key] = value
    elif field.message_type is not None:
        if field.is_repeated:
            for _ in values:
                fill_message(getattr(message, field.name).add())
        else:
            child = getattr(message, field.name)
            child.SetInParent()
            fill_message(child)
    elif field.is_repeated:
        getattr(message, field.name).extend(values)
    else:
        setattr(message, field.name, values[0])


# --- systematic: every field set to a non-default value ---------------------------

def _sample(field: FieldDescriptor) -> Any:
    if field.type == F.TYPE_ENUM:
        return field.enum_type.values[-1].number
    if field.type in _INT_RANGES:
        return _INT_RANGES[field.type][1]
    return {
        F.TYPE_BOOL: True,
        F.TYPE_DOUBLE: -1.5,
        F.TYPE_FLOAT: 2.5,
        F.TYPE_STRING: f"{field.name}-é✓",
        F.TYPE_BYTES: b"\x00\xff" + field.name.encode(),
    }[field.type]


def populated(descriptor: Descriptor, oneof_choice: int = 0, depth: int = 0) -> Message:
    """A message with every field set; in each oneof, member ``oneof_choice`` (wrapping)."""
    message = message_factory.GetMessageClass(descriptor)()
    chosen = {
        oneof.full_name: oneof.fields[oneof_choice % len(oneof.fields)]
        for oneof in real_oneofs(descriptor)
    }

    def fill(child: Message) -> None:
        child.CopyFrom(populated(child.DESCRIPTOR, oneof_choice, depth + 1))

    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and oneof.full_name in chosen and chosen[oneof.full_name] is not field:
            continue
        if field.message_type is not None and not _is_map(field) and depth >= MAX_DEPTH:
            continue
        if _is_map(field):
            key = _sample(field.message_type.fields_by_name["key"])
            values: list[Any] = [(key, _sample_map_value(field))]
        else:
            value = None if field.message_type else _sample(field)
            values = [value] * (2 if field.is_repeated else 1)
        _fill(message, field, values, fill)
    return message


def _sample_map_value(field: FieldDescriptor) -> Any:
    value_field = field.message_type.fields_by_name["value"]
    return None if value_field.message_type else _sample(value_field)


def widest_oneof(descriptor: Descriptor) -> int:
    """How many ``populated`` variants it takes to set every member of every oneof."""
    return max((len(oneof.fields) for oneof in real_oneofs(descriptor)), default=1)


# --- generative: hypothesis strategies ----------------------------------------------

def _scalars(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type == F.TYPE_ENUM:
        return st.sampled_from([value.number for value in field.enum_type.values])
    if field.type in _INT_RANGES:
        low, high = _INT_RANGES[field.type]
        return st.integers(low, high)
    return {
        F.TYPE_BOOL: st.booleans(),
        F.TYPE_DOUBLE: st.floats(allow_nan=False),
        F.TYPE_FLOAT: st.floats(width=32, allow_nan=False),
        F.TYPE_STRING: st.text(max_size=20),
        F.TYPE_BYTES: st.binary(max_size=20),
    }[field.type]


@st.composite
def messages(draw: st.DrawFn, descriptor: Descriptor, depth: int = 0) -> Message:
    """Arbitrary instances of ``descriptor``'s message, any subset of fields set."""
    message = message_factory.GetMessageClass(descriptor)()
    chosen = {
        oneof.full_name: draw(st.sampled_from([None, *oneof.fields]))
        for oneof in real_oneofs(descriptor)
    }

    def fill(child: Message) -> None:
        child.CopyFrom(draw(messages(child.DESCRIPTOR, depth + 1)))

    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and oneof.full_name in chosen and chosen[oneof.full_name] is not field:
            continue
        if field.message_type is not None and depth >= MAX_DEPTH:
            continue
        if not draw(st.booleans()):
            continue
        if _is_map(field):
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            value = st.none() if value_field.message_type else _scalars(value_field)
            entries = draw(st.dictionaries(_scalars(key_field), value, min_size=1, max_size=3))
            values: list[Any] = list(entries.items())
        elif field.message_type is not None:
            values = [None] * (draw(st.integers(1, 3)) if field.is_repeated else 1)
        elif field.is_repeated:
            values = draw(st.lists(_scalars(field), min_size=1, max_size=3))
        else:
            values = [draw(_scalars(field))]
        _fill(message, field, values, fill)
    return message
