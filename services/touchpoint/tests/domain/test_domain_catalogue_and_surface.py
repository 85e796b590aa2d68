"""The domain's public surface, its catalogue, its reference data and its JSON schema."""

import ast
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import crm_touchpoint.domain as domain
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_touchpoint.domain import (
    ALLOWED_CHANNELS,
    CHANNELS,
    EVENT_JSON_SCHEMA,
    GENERIC_TYPES,
    RULES,
    TOUCHPOINT_TYPES,
    TYPED_TYPES,
    ValidatedTouchpoint,
    event_json_schema,
    validate_touchpoint,
)
from crm_touchpoint.domain.reference import COUNTRIES, CURRENCIES, MINOR_UNITS

DOMAIN_DIR = Path(domain.__file__).parent
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_the_package_exports_exactly_its_public_names() -> None:
    assert sorted(domain.__all__) == sorted(
        name for name in vars(domain) if not name.startswith("_")
        and not isinstance(vars(domain)[name], type(domain))
    )
    for name in ["Problem", "Rejection", "Identifier", "IngestionRules", "ValidatedTouchpoint",
                 "validate_touchpoint", "touchpoint_from_proto", "EVENT_JSON_SCHEMA"]:
        assert name in domain.__all__


FORBIDDEN_IMPORTS = ("fastapi", "starlette", "sqlalchemy", "asyncpg", "aiokafka", "httpx",
                     "crm_eventstore", "crm_messaging", "crm_servicekit")


@pytest.mark.parametrize("module", sorted(DOMAIN_DIR.glob("*.py")), ids=lambda path: path.name)
def test_the_domain_does_no_io(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    assert not {name for name in imported if name.split(".")[0] in FORBIDDEN_IMPORTS}


def test_every_type_has_its_channels_and_is_typed_or_generic() -> None:
    assert set(ALLOWED_CHANNELS) == set(TOUCHPOINT_TYPES)
    assert not set(TYPED_TYPES) & set(GENERIC_TYPES)
    for kind, channels in ALLOWED_CHANNELS.items():
        assert channels, kind
        assert channels <= set(CHANNELS), kind


def test_every_typed_type_has_its_own_message_on_the_wire() -> None:
    oneof = TouchpointRecorded.DESCRIPTOR.oneofs_by_name["properties"]

    assert {field.name for field in oneof.fields} == {*TYPED_TYPES, "generic"}


def test_the_channels_are_those_of_the_wire_enum() -> None:
    names = TouchpointRecorded.DESCRIPTOR.fields_by_name["channel"].enum_type.values_by_name

    assert {name.removeprefix("CHANNEL_").lower() for name in names} == {*CHANNELS,
                                                                         "unspecified"}


def test_the_schema_is_a_union_discriminated_by_type_covering_the_catalogue() -> None:
    discriminator: Any = EVENT_JSON_SCHEMA["discriminator"]

    assert discriminator["propertyName"] == "type"
    assert set(discriminator["mapping"]) == set(TOUCHPOINT_TYPES)


def test_accepted_events_conform_to_the_published_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    event = {
        "event_id": "5b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "channel": "web", "type": "order",
        "occurred_at": "2026-11-20T09:30:00Z", "identifiers": {"email": "ada@example.com"},
        "traits": {"country": "GB"},
        "properties": {"order_id": "o-1", "amount": "19.90", "currency": "EUR",
                       "items": [{"sku": "mug", "quantity": 1, "unit_price": "19.90"}]},
    }
    assert isinstance(validate_touchpoint(event, now=NOW), ValidatedTouchpoint)

    jsonschema.validate(event, EVENT_JSON_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(event | {"properties": event["properties"] | {"amount": 19.9}},
                            EVENT_JSON_SCHEMA)


def test_every_rule_slug_is_documented_in_the_module_docstring() -> None:
    from crm_touchpoint.domain import problems

    documented = re.findall(r"^- ``([a-z_]+)``", problems.__doc__ or "", flags=re.MULTILINE)

    assert documented == list(RULES)
    assert all(RULES.values())


def test_the_schema_can_point_its_references_into_openapi_components() -> None:
    schema = event_json_schema("#/components/schemas/{model}")

    assert '"#/components/schemas/OrderProperties"' in json.dumps(schema)


@pytest.mark.parametrize("code", ["EUR", "USD", "GBP", "JPY", "CHF", "SEK", "KWD", "XOF",
                                  "XCG", "ZWG", "HRK"])
def test_circulating_and_recently_withdrawn_currencies_are_known(code: str) -> None:
    assert code in CURRENCIES


@pytest.mark.parametrize("code", ["XAU", "XTS", "XXX", "XDR", "BOV", "DEM", "ABC", "eur"])
def test_metals_funds_test_codes_and_old_currencies_are_not(code: str) -> None:
    assert code not in CURRENCIES


def test_minor_units_are_known_for_the_exceptions_only() -> None:
    assert MINOR_UNITS["JPY"] == 0
    assert MINOR_UNITS["KWD"] == 3
    assert "EUR" not in MINOR_UNITS
    assert set(MINOR_UNITS) <= CURRENCIES


def test_countries_are_the_assigned_iso_3166_codes_plus_kosovo() -> None:
    assert len(COUNTRIES) == 250
    assert {"GB", "DE", "US", "XK", "AQ"} <= COUNTRIES
    assert "UK" not in COUNTRIES
