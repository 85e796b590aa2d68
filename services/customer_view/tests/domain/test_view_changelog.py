"""Record changes: a change is published only when the record really changed, naming the
top-level fields that did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crm_customer_view.domain import (
    CustomerRecord,
    ErasureFact,
    EventMeta,
    Fact,
    Identifier,
    IdentifierFact,
    MergeFact,
    Redirect,
    Touchpoint,
    TouchpointFact,
    TraitFact,
    record_change,
    record_of,
    stored_form,
)
from crm_customer_view.domain.values import Money, OrderProperties

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
EMAIL = Identifier("email", "ada@example.com")


def meta(n: int) -> EventMeta:
    return EventMeta(f"ev-{n:03d}", n, T0 + timedelta(minutes=n))


def visit(n: int, customer: str = "c1") -> TouchpointFact:
    return TouchpointFact(customer, Touchpoint(f"tp-{n}", "web", "page_view",
                                               T0 + timedelta(minutes=n), (EMAIL,)), meta(n))


def order(n: int, customer: str = "c1") -> TouchpointFact:
    properties = OrderProperties(f"o-{n}", Money("20.00", "EUR"))
    return TouchpointFact(customer, Touchpoint(f"tp-{n}", "web", "order",
                                               T0 + timedelta(minutes=n), (EMAIL,), (),
                                               properties), meta(n))


def history() -> list[Fact]:
    return [IdentifierFact("c1", EMAIL, meta(1)), visit(2),
            TraitFact("c1", "first_name", "Ada", "web", T0, meta(3))]


def stored(facts: list[Fact], customer: str = "c1") -> dict[str, object]:
    """What the service keeps of the record, as it reads it back (JSON text)."""
    return json.loads(json.dumps(stored_form(record_of(customer, facts))))


def test_a_first_record_changes_every_field() -> None:
    record = record_of("c1", history())
    change = record_change(None, record)
    assert change is not None and change.customer_id == "c1"
    assert set(change.changed) == set(stored_form(record)) - {"customer_id"}


def test_the_same_record_read_back_from_the_store_is_no_change() -> None:
    assert record_change(stored(history()), record_of("c1", history())) is None


def test_a_redelivered_fact_is_no_change() -> None:
    facts = history()
    assert record_change(stored(facts), record_of("c1", [*facts, facts[1]])) is None


def test_an_order_changes_the_order_metrics_and_leaves_traits_and_consent_alone() -> None:
    before = history()
    change = record_change(stored(before), record_of("c1", [*before, order(4)]))
    assert change is not None
    assert {"orders", "channels", "rfm", "clv", "freshness", "identifiers"} <= set(
        change.changed)
    assert not {"traits", "consent", "erased", "merged_into"} & set(change.changed)
    assert list(change.changed) == sorted(change.changed)


def test_a_new_name_is_a_change_of_traits_even_where_its_mask_is_the_same() -> None:
    before = history()
    after = [*before, TraitFact("c1", "first_name", "Amy", "web", T0 + timedelta(hours=1),
                                meta(9))]
    change = record_change(stored(before), record_of("c1", after))
    assert change is not None and "traits" in change.changed


def test_a_merged_away_id_changes_to_where_it_lives_now() -> None:
    before = [*history(), visit(5, "c2")]
    change = record_change(stored(before, "c2"),
                           record_of("c2", [*before, MergeFact("c1", "c2", meta(6))]))
    assert change is not None and isinstance(change.after, Redirect)
    assert "merged_into" in change.changed and "channels" in change.changed


def test_an_erasure_changes_erased_identifiers_and_traits() -> None:
    before = history()
    change = record_change(stored(before),
                           record_of("c1", [*before, ErasureFact("c1", T0, meta(7))]))
    assert change is not None and isinstance(change.after, CustomerRecord)
    assert {"erased", "identifiers", "traits"} <= set(change.changed)


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(6)), st.sets(st.integers(0, 5)))
def test_folding_the_same_set_again_in_any_order_with_duplicates_is_no_change(
    order_: list[int], repeated: set[int]
) -> None:
    facts = [*history(), order(4), visit(5), MergeFact("c1", "c2", meta(6))]
    shuffled = [facts[i] for i in order_] + [facts[i] for i in sorted(repeated)]
    assert record_change(stored(facts), record_of("c1", shuffled)) is None
