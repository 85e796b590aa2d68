"""Metrics of the record: orders, money, RFM, CLV, satisfaction, complaints, channels."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crm_customer_view.domain import (
    ClvInputs,
    CustomerRecord,
    EventMeta,
    Fact,
    ProjectionConfig,
    RfmThresholds,
    TouchpointFact,
    Unconverted,
    record_of,
)
from crm_customer_view.domain.values import (
    CallProperties,
    ComplaintProperties,
    GenericProperties,
    Money,
    OrderProperties,
    Properties,
    RefundProperties,
    SurveyResponseProperties,
    Touchpoint,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
_ids = itertools.count(1)


def tp(type_: str, at: datetime, properties: Properties = None, channel: str = "web",
       event_id: str | None = None) -> Touchpoint:
    return Touchpoint(event_id or f"tp-{next(_ids):04d}", channel, type_, at,
                      properties=properties)


def order(at: datetime, amount: str, currency: str = "EUR", order_id: str | None = None,
          event_id: str | None = None) -> Touchpoint:
    return tp("order", at, OrderProperties(order_id or f"o-{next(_ids)}",
                                           Money(amount, currency)), event_id=event_id)


def refund(at: datetime, amount: str, currency: str = "EUR") -> Touchpoint:
    return tp("refund", at, RefundProperties("o-1", Money(amount, currency)), channel="store")


def call(at: datetime) -> Touchpoint:
    return tp("call", at, CallProperties(60, satisfaction=1), channel="call_center")


def survey(at: datetime, nps: int | None = None, csat: int | None = None) -> Touchpoint:
    return tp("survey_response", at, SurveyResponseProperties(nps, csat), channel="email")


def complaint(at: datetime, category: str = "billing", event_id: str | None = None) -> Touchpoint:
    return tp("complaint", at, ComplaintProperties(category, "high"), channel="call_center",
              event_id=event_id)


def resolution(at: datetime, **fields: str) -> Touchpoint:
    return tp("complaint_resolved", at, GenericProperties(json.dumps(fields, sort_keys=True)),
              channel="call_center")


def facts_of(*touchpoints: Touchpoint) -> list[Fact]:
    return [TouchpointFact("c1", t, EventMeta(f"ev-{t.event_id}", n, t.occurred_at))
            for n, t in enumerate(touchpoints, 1)]


def record(*touchpoints: Touchpoint, config: ProjectionConfig | None = None) -> CustomerRecord:
    result = record_of("c1", facts_of(*touchpoints), config or ProjectionConfig())
    assert isinstance(result, CustomerRecord)
    return result


USD_AT_0_90 = ProjectionConfig(base_currency="EUR", exchange_rates={"USD": Decimal("0.90")})


# --- orders and money ------------------------------------------------------------------------


def test_refunds_subtract_from_lifetime_revenue() -> None:
    orders = record(order(T0, "100.00"), order(T0, "50.00"), refund(T0, "30.00")).orders
    assert orders.orders == 2
    assert orders.lifetime_revenue == Decimal("120.00")
    assert orders.average_order_value == Decimal("60.00")


def test_a_refund_subtracts_its_amount_whatever_its_sign() -> None:
    assert record(order(T0, "100.00"), refund(T0, "-30.00")).orders.lifetime_revenue == 70


def test_amounts_in_other_currencies_are_converted_to_the_base_at_the_configured_rate() -> None:
    orders = record(order(T0, "100.00", "USD"), order(T0, "10.00", "EUR"),
                    config=USD_AT_0_90).orders
    assert orders.currency == "EUR"
    assert orders.lifetime_revenue == Decimal("100.00")


def test_an_amount_without_a_rate_is_listed_unconverted_and_left_out_of_every_sum() -> None:
    unknown = order(T0, "70.00", "JPY")
    bad = refund(T0, "12.00", "CHF")
    orders = record(order(T0, "40.00"), unknown, bad, config=USD_AT_0_90).orders
    assert orders.orders == 2  # it is still an order
    assert orders.lifetime_revenue == Decimal("40.00")
    assert orders.average_order_value == Decimal("40.00")
    assert orders.unconverted == (Unconverted(unknown.event_id, "order", "70.00", "JPY"),
                                  Unconverted(bad.event_id, "refund", "12.00", "CHF"))


def test_an_amount_that_is_not_a_number_is_unconverted_not_a_crash() -> None:
    orders = record(order(T0, "twelve")).orders
    assert orders.lifetime_revenue == 0 and len(orders.unconverted) == 1


def test_money_is_rounded_to_cents_once_at_the_end_not_per_amount() -> None:
    config = ProjectionConfig(exchange_rates={"USD": Decimal("1.0005")})
    orders = record(order(T0, "10.00", "USD"), order(T0, "10.00", "USD"), config=config).orders
    assert orders.lifetime_revenue == Decimal("20.01")  # 10.005 + 10.005, not 10.00 + 10.00
    assert orders.average_order_value == Decimal("10.00")  # 10.005 rounds half to even


def test_an_order_posted_again_under_a_new_event_id_counts_once_with_its_latest_amount() -> None:
    first = order(T0, "80.00", order_id="o-7")
    amended = order(T0 + timedelta(hours=1), "95.00", order_id="o-7")
    orders = record(amended, first).orders
    assert (orders.orders, orders.lifetime_revenue) == (1, Decimal("95.00"))


def test_the_last_order_is_the_latest_by_time_not_by_arrival() -> None:
    latest = T0 + timedelta(days=9)
    assert record(order(latest, "1.00"), order(T0, "1.00")).orders.last_order_at == latest


def test_without_orders_revenue_is_zero_and_there_is_no_average() -> None:
    orders = record(call(T0)).orders
    assert (orders.orders, orders.lifetime_revenue, orders.average_order_value) == (
        0, Decimal(0), None)


# --- RFM -------------------------------------------------------------------------------------


def as_of(days: float) -> ProjectionConfig:
    return ProjectionConfig(as_of=T0 + timedelta(days=days))


@pytest.mark.parametrize(("days", "score"), [
    (0, 5), (30, 5), (30.5, 5), (31, 4), (90, 4), (91, 3), (180, 3), (181, 2), (365, 2),
    (366, 1), (4000, 1),
])
def test_recency_scores_by_whole_days_since_the_last_order(days: float, score: int) -> None:
    rfm = record(order(T0, "10.00"), config=as_of(days)).rfm
    assert rfm is not None and rfm.recency == score
    assert rfm.days_since_last_order == int(days)


@pytest.mark.parametrize(("orders", "score"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (9, 4),
                                                (10, 5), (25, 5)])
def test_frequency_scores_by_the_number_of_orders(orders: int, score: int) -> None:
    rfm = record(*(order(T0, "1.00") for _ in range(orders))).rfm
    assert rfm is not None and rfm.frequency == score


@pytest.mark.parametrize(("revenue", "score"), [("99.99", 1), ("100.00", 2), ("249.99", 2),
                                                 ("250.00", 3), ("500.00", 4), ("1000.00", 5)])
def test_monetary_scores_by_lifetime_revenue_in_the_base_currency(revenue: str,
                                                                  score: int) -> None:
    rfm = record(order(T0, revenue)).rfm
    assert rfm is not None and rfm.monetary == score


def test_rfm_thresholds_are_configuration() -> None:
    config = ProjectionConfig(rfm=RfmThresholds(frequency_orders=(1, 2, 3, 4)),
                              as_of=T0 + timedelta(days=2))
    rfm = record(order(T0, "1.00"), config=config).rfm
    assert rfm is not None and (rfm.recency, rfm.frequency, rfm.monetary) == (5, 2, 1)
    assert rfm.code == "521"


def test_recency_is_measured_to_the_latest_interaction_never_to_the_clock() -> None:
    rfm = record(order(T0, "10.00"), tp("page_view", T0 + timedelta(days=100))).rfm
    assert rfm is not None and rfm.days_since_last_order == 100 and rfm.recency == 3


def test_without_an_order_there_are_no_rfm_scores() -> None:
    assert record(call(T0)).rfm is None


@pytest.mark.parametrize("cuts", [(1, 2, 3), (3, 2, 1, 0), (-1, 0, 1, 2)])
def test_thresholds_must_be_four_ascending_cut_points(cuts: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="four ascending"):
        RfmThresholds(recency_days=cuts)  # type: ignore[arg-type]  # wrong on purpose


# --- CLV -------------------------------------------------------------------------------------


def test_clv_is_the_annual_margin_less_serving_costs_discounted_over_the_horizon() -> None:
    inputs = ClvInputs(margin_rate=Decimal("0.30"), serving_cost_per_contact=Decimal(5),
                       annual_discount_rate=Decimal("0.10"), horizon_years=3)
    config = ProjectionConfig(clv=inputs, as_of=T0 + timedelta(days=730.5))  # two years
    clv = record(order(T0, "1000.00"), order(T0 + timedelta(days=1), "1000.00"),
                 *(call(T0 + timedelta(days=n)) for n in range(4)), config=config).clv
    assert clv is not None
    assert clv.revenue_per_year == Decimal("1000.00")
    assert clv.contacts_per_year == Decimal("2.00")
    assert clv.annual_margin == Decimal("290.00")  # 1000 * 0.30 - 2 * 5
    assert clv.value == Decimal("721.19")  # 290/1.1 + 290/1.1**2 + 290/1.1**3
    assert (clv.observed_days, clv.horizon_years) == (730, 3)


def test_a_short_history_is_annualised_over_the_minimum_observed_days() -> None:
    inputs = ClvInputs(margin_rate=Decimal("0.5"), annual_discount_rate=Decimal(0),
                       horizon_years=1, min_observed_days=365)
    clv = record(order(T0, "365.25"), config=ProjectionConfig(clv=inputs)).clv
    assert clv is not None and clv.observed_days == 365
    assert clv.revenue_per_year == Decimal("365.50")  # 365.25 over 365/365.25 years
    assert clv.value == clv.annual_margin == Decimal("182.75")


def test_a_customer_who_costs_more_than_they_bring_has_a_negative_clv() -> None:
    clv = record(*(call(T0) for _ in range(10))).clv
    assert clv is not None and clv.value < 0 and clv.annual_margin < 0


def test_only_contact_types_cost_money_to_serve() -> None:
    clv = record(tp("page_view", T0), tp("login", T0)).clv
    assert clv is not None and clv.contacts_per_year == 0 and clv.value == 0


def test_without_any_interaction_there_is_no_clv() -> None:
    assert record().clv is None


@pytest.mark.parametrize("inputs", [
    {"margin_rate": Decimal("1.5")}, {"serving_cost_per_contact": Decimal(-1)},
    {"annual_discount_rate": Decimal("-0.1")}, {"horizon_years": 0},
])
def test_clv_inputs_out_of_range_are_refused(inputs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="clv"):
        ClvInputs(**inputs)  # type: ignore[arg-type]  # wrong on purpose


@pytest.mark.parametrize("config", [
    {"base_currency": "eur"}, {"base_currency": "EURO"},
    {"exchange_rates": {"USD": Decimal(0)}}, {"as_of": datetime(2024, 1, 1)},  # naive
])
def test_a_projection_config_that_makes_no_sense_is_refused(config: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ProjectionConfig(**config)  # type: ignore[arg-type]  # wrong on purpose


def test_the_exchange_rates_of_a_config_cannot_change_under_it() -> None:
    rates = {"USD": Decimal("0.9")}
    config = ProjectionConfig(exchange_rates=rates)
    rates["USD"] = Decimal(2)
    assert config.to_base(Decimal(10), "USD") == Decimal("9.0")


# --- satisfaction ------------------------------------------------------------------------------


def test_nps_and_csat_are_the_latest_answer_and_the_mean_of_all_answers() -> None:
    satisfaction = record(
        survey(T0 + timedelta(days=2), nps=9), survey(T0, nps=6, csat=2),
        survey(T0 + timedelta(days=1), csat=5), survey(T0 + timedelta(days=3), nps=10),
    ).satisfaction
    assert (satisfaction.nps.latest, satisfaction.nps.average, satisfaction.nps.responses) == (
        10, Decimal("8.33"), 3)
    assert (satisfaction.csat.latest, satisfaction.csat.average) == (5, Decimal("3.50"))


def test_call_ratings_are_not_survey_answers() -> None:
    satisfaction = record(call(T0)).satisfaction
    assert satisfaction.csat.responses == 0 and satisfaction.csat.latest is None


# --- complaints --------------------------------------------------------------------------------


def test_a_complaint_is_open_until_a_resolution_of_its_category_follows_it() -> None:
    billing, delivery = complaint(T0, "billing"), complaint(T0, "delivery")
    later = resolution(T0 + timedelta(days=1), category="billing")
    open_ = record(billing, delivery, later).open_complaints
    assert [c.event_id for c in open_] == [delivery.event_id]


def test_a_resolution_naming_a_complaint_closes_that_one_only() -> None:
    first, second = complaint(T0, event_id="cp-1"), complaint(T0, event_id="cp-2")
    open_ = record(first, second, resolution(T0, complaint_event_id="cp-1")).open_complaints
    assert [c.event_id for c in open_] == ["cp-2"]


def test_a_resolution_before_a_complaint_does_not_close_it() -> None:
    late = complaint(T0 + timedelta(days=2))
    assert record(resolution(T0 + timedelta(days=1)), late).open_complaints[0].event_id == (
        late.event_id)


def test_an_open_complaint_shows_its_category_severity_channel_and_time() -> None:
    (open_,) = record(complaint(T0, "delivery")).open_complaints
    assert (open_.category, open_.severity, open_.channel, open_.occurred_at) == (
        "delivery", "high", "call_center", T0)


# --- channels ----------------------------------------------------------------------------------


def test_each_channel_summarises_its_count_and_its_first_and_last_interaction() -> None:
    channels = record(call(T0 + timedelta(days=3)), tp("page_view", T0 + timedelta(days=1)),
                      call(T0), tp("login", T0 + timedelta(days=2))).channels
    assert [(c.channel, c.interactions, c.first_interaction, c.last_interaction)
            for c in channels] == [
        ("call_center", 2, T0, T0 + timedelta(days=3)),
        ("web", 2, T0 + timedelta(days=1), T0 + timedelta(days=2)),
    ]
