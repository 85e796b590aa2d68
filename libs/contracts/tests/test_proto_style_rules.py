"""The rules of proto/README.md that a machine can check, over every generated file."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from contracts_messages import all_messages
from google.protobuf.descriptor import EnumDescriptor, FileDescriptor

from crm_contracts import generated_files

FILES = generated_files()
MESSAGES = list(all_messages(FILES))


def all_enums() -> Iterator[EnumDescriptor]:
    for file in FILES:
        yield from file.enum_types_by_name.values()
    for message in MESSAGES:
        yield from message.enum_types


def upper_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def test_generated_files_cover_every_proto_package() -> None:
    assert {file.package for file in FILES} >= {
        "crm.common.v1", "crm.touchpoints.v1", "crm.profiles.v1",
    }


@pytest.mark.parametrize("file", FILES, ids=lambda file: file.name)
def test_packages_are_versioned_and_match_their_directory(file: FileDescriptor) -> None:
    assert re.fullmatch(r"crm(\.[a-z][a-z0-9_]*)+\.v[1-9][0-9]*", file.package)
    assert file.name.rsplit("/", 1)[0] == file.package.replace(".", "/")


@pytest.mark.parametrize("file", FILES, ids=lambda file: file.name)
def test_no_file_imports_any(file: FileDescriptor) -> None:
    assert "google/protobuf/any.proto" not in {dep.name for dep in file.dependencies}


def test_message_and_enum_names_are_unique() -> None:
    names = [message.full_name for message in MESSAGES] + [e.full_name for e in all_enums()]
    assert len(names) == len(set(names))


def test_no_field_is_a_google_protobuf_any() -> None:
    any_fields = [
        field.full_name
        for message in MESSAGES
        for field in message.fields
        if field.message_type is not None
        and field.message_type.full_name == "google.protobuf.Any"
    ]
    assert any_fields == []


@pytest.mark.parametrize("enum", list(all_enums()), ids=lambda enum: enum.full_name)
def test_every_enum_starts_at_a_prefixed_zero_unspecified(enum: EnumDescriptor) -> None:
    prefix = upper_snake(enum.name)
    assert enum.values_by_number[0].name == f"{prefix}_UNSPECIFIED"
    assert all(value.name.startswith(prefix + "_") for value in enum.values)


def test_field_names_are_lower_snake_case() -> None:
    bad = [
        field.full_name
        for message in MESSAGES
        for field in message.fields
        if not re.fullmatch(r"[a-z][a-z0-9_]*", field.name)
    ]
    assert bad == []
