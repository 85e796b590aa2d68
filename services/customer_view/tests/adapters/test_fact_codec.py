"""The stored form of facts: every fact type survives JSON exactly, and the JSON holds
nothing but the facts' own values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_customer_view.adapters.fact_codec import decode_facts, encode_facts
from crm_customer_view.domain import EventMeta, Fact, Identifier, Touchpoint, digest, record_of
from crm_customer_view.domain.values import (
    CallProperties,
    ComplaintProperties,
    ConsentProperties,
    GenericProperties,
    Money,
    OrderItem,
    OrderProperties,
    PageViewProperties,
    RefundProperties,
    SurveyResponseProperties,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
FACT_TYPES = get_args(Fact)

moments = st.builds(lambda us: T0 + timedelta(microseconds=us),
                    st.integers(-10**15, 10**15))
texts = st.text(max_size=12)
# The integers of facts come from uint32 fields of the touchpoint contract; the JSON
# codec (orjson) takes any 64-bit integer, and none wider can arrive.
wire_ints = st.integers(-2**63, 2**63 - 1)
money = st.builds(Money, texts, texts)
properties = st.one_of(
    st.none(),
    st.builds(OrderProperties, texts, money,
              st.lists(st.builds(OrderItem, texts, texts, wire_ints, money),
                       max_size=2).map(tuple)),
    st.builds(RefundProperties, texts, money),
    st.builds(CallProperties, wire_ints, texts, texts, texts, st.none() | wire_ints),
    st.builds(SurveyResponseProperties, st.none() | wire_ints, st.none() | wire_ints,
              texts),
    st.builds(ComplaintProperties, texts, texts),
    st.builds(PageViewProperties, texts, texts, texts),
    st.builds(ConsentProperties, texts, texts, st.booleans()),
    st.builds(GenericProperties, texts),
)
identifiers = st.builds(Identifier, texts, texts)
touchpoints = st.builds(
    Touchpoint, event_id=texts, channel=texts, type=texts, occurred_at=moments,
    identifiers=st.lists(identifiers, max_size=3).map(tuple),
    traits=st.lists(st.tuples(texts, texts), max_size=3).map(tuple),
    properties=properties,
)
metas = st.builds(EventMeta, texts, st.integers(0, 2**64 - 1), moments, texts)


def facts_of(kind: type) -> st.SearchStrategy[Fact]:
    """Facts of one type; fields not named here are drawn from their type hints."""
    overrides = {"meta": metas, "part": st.integers(0, 50)}
    fields = kind.__dataclass_fields__
    for name, strategy in (("touchpoint", touchpoints), ("identifier", identifiers),
                           ("occurred_at", moments), ("erased_at", moments),
                           ("customer_ids", st.lists(texts, max_size=3).map(tuple))):
        if name in fields:
            overrides[name] = strategy
    return st.builds(kind, **overrides)


any_fact = st.one_of(*(facts_of(kind) for kind in FACT_TYPES))


@settings(max_examples=300, deadline=None)
@given(st.lists(any_fact, max_size=6))
def test_facts_come_back_from_their_json_equal_and_of_the_same_types(facts: list[Fact]) -> None:
    decoded = decode_facts(encode_facts(facts))
    assert decoded == tuple(facts)
    assert [type(f) for f in decoded] == [type(f) for f in facts]
    assert repr(decoded) == repr(tuple(facts))  # tuples stay tuples, times stay UTC


@pytest.mark.parametrize("kind", FACT_TYPES, ids=lambda kind: kind.__name__)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_every_fact_type_is_stored_under_its_own_name(kind: type, data: st.DataObject) -> None:
    fact = data.draw(facts_of(kind))
    (stored,) = json.loads(encode_facts([fact]))
    assert stored["$type"] == kind.__name__
    assert decode_facts(encode_facts([fact])) == (fact,)


def test_a_stored_fact_missing_a_field_with_a_default_reads_with_the_default() -> None:
    stored = ('[{"$type":"CreationFact","customer_id":"c1",'
              '"occurred_at":"2024-01-01T00:00:00+00:00",'
              '"meta":{"event_id":"e1","position":1,"occurred_at":"2024-01-01T00:00:00+00:00"}}]')
    (fact,) = decode_facts(stored)
    assert fact.part == 0 and fact.customer_id == "c1"
    assert fact.meta.causation_id == "", "stored before the view kept the causation"


@settings(max_examples=100, deadline=None)
@given(st.lists(any_fact, max_size=8))
def test_a_record_folded_from_stored_facts_equals_the_one_folded_from_the_originals(
    facts: list[Fact],
) -> None:
    decoded = decode_facts(encode_facts(facts))
    for customer_id in {c for f in facts for c in f.customers}:
        before, after = record_of(customer_id, facts), record_of(customer_id, decoded)
        assert after == before
        if not hasattr(before, "survivor_id"):
            assert digest(after) == digest(before)  # type: ignore[arg-type]
