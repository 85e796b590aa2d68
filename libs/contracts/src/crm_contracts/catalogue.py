"""The event catalogue: every event payload type, by its full protobuf name.

The catalogue is read from the generated modules' file descriptors, never written by
hand: a message is an event when its .proto marks it with
``option (crm.common.v1.event) = true;``. Adding such a message and running
``make proto`` is all it takes to catalogue it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FileDescriptor
from google.protobuf.message import Message

import crm
from crm.common.v1 import options_pb2
from crm_contracts.errors import UnknownEventType

__all__ = ["event_types", "generated_files", "is_event", "message_class"]

_GENERATED_SUFFIX = "_pb2"


@cache
def generated_files() -> tuple[FileDescriptor, ...]:
    """The file descriptor of every generated module of the ``crm`` package, by name."""
    names = sorted(
        info.name
        for info in pkgutil.walk_packages(crm.__path__, prefix="crm.")
        if info.name.endswith(_GENERATED_SUFFIX)
    )
    files: list[FileDescriptor] = [importlib.import_module(name).DESCRIPTOR for name in names]
    return tuple(files)


def is_event(descriptor: Descriptor) -> bool:
    """Whether the message is marked as an event payload in its .proto."""
    # ListFields rather than Extensions[...]: protoc's stubs type the extension as a
    # plain FieldDescriptor, which the typeshed stubs of Extensions do not accept.
    return any(
        field.full_name == options_pb2.event.full_name and value is True
        for field, value in descriptor.GetOptions().ListFields()
    )


@cache
def _catalogue() -> Mapping[str, type[Message]]:
    events = {
        descriptor.full_name: message_factory.GetMessageClass(descriptor)
        for file in generated_files()
        for descriptor in file.message_types_by_name.values()
        if is_event(descriptor)
    }
    return MappingProxyType(dict(sorted(events.items())))


def event_types() -> tuple[str, ...]:
    """Full names of every catalogued event payload, sorted."""
    return tuple(_catalogue())


def message_class(event_type: str) -> type[Message]:
    """The generated class of an event payload; raises :class:`UnknownEventType`."""
    try:
        return _catalogue()[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None
