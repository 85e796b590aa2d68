"""Packed text arrays come back from Postgres exactly as they were sent."""

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_eventstore.packed import packed, unpacked

# Values that read like the separators, the null mark, quotes and array syntax.
_AWKWARD = st.sampled_from(["", "\x1f", "\x1e", "\x1f\x1e", "{", "}", '"', "\\", ",", " ",
                            "NULL", "null", "{a,b}", "é", "\u2028"])
_VALUES = st.lists(st.one_of(st.none(), _AWKWARD, st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))), max_size=12)


@pytest.fixture(scope="module")
def database(postgres_url: str) -> Iterator[tuple[asyncio.AbstractEventLoop, asyncpg.Connection]]:
    loop = asyncio.new_event_loop()
    url = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = loop.run_until_complete(asyncpg.connect(url))
    yield loop, connection
    loop.run_until_complete(connection.close())
    loop.close()


def _round_trip(database: tuple[asyncio.AbstractEventLoop, asyncpg.Connection],
                values: list[str | None], sql_type: str = "text") -> list[object]:
    loop, connection = database
    statement = f"SELECT CAST({unpacked('$1')} AS {sql_type}[])"
    return list(loop.run_until_complete(connection.fetchval(statement, packed(values))))


@settings(max_examples=300, deadline=None)
@given(values=_VALUES)
def test_any_text_and_none_round_trip(
    database: tuple[asyncio.AbstractEventLoop, asyncpg.Connection], values: list[str | None],
) -> None:
    assert _round_trip(database, values) == values


def test_the_edge_cases_round_trip_under_both_plans(
    database: tuple[asyncio.AbstractEventLoop, asyncpg.Connection],
) -> None:
    # Postgres plans a prepared statement with the values first, generically after five
    # runs: the branch for the other packing must not be evaluated under either.
    cases: list[list[str | None]] = [[], [""], [None], ["", None, ""], ["a\x1fb"], ["\x1e"],
                                     ['say "hi"', "back\\slash", "{x}"], ["plain", "words"]]
    for _ in range(3):
        for values in cases:
            assert _round_trip(database, values) == values


def test_common_values_travel_joined_and_others_as_an_array_literal() -> None:
    assert packed(["a", None, "b"]) == "\x1f\x1e\x1fa\x1f\x1e\x1fb"
    assert packed(["a\x1fb"]) == '{"a\x1fb"}'
    assert packed(["\x1e", None]) == '{"\x1e",NULL}'


def test_other_types_are_cast_from_their_text(
    database: tuple[asyncio.AbstractEventLoop, asyncpg.Connection],
) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    assert _round_trip(database, [str(i) for i in ids], "uuid") == ids
    assert _round_trip(database, ["1", None, "-9223372036854775808"], "bigint") == [
        1, None, -9223372036854775808]
