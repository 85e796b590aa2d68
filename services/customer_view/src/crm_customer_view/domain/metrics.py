"""Metrics of one customer's touchpoints: channels, orders, RFM, CLV, NPS/CSAT, complaints.

Every function takes the customer's touchpoints sorted by ``(occurred_at, event_id)`` and
is deterministic: money is ``Decimal`` under a fixed context, rounded half-even to cents
once, when a figure leaves this module.

Orders
    One order per ``order_id`` (an order posted again with a new event id replaces the
    earlier one: the latest ``(occurred_at, event_id)`` counts). ``lifetime_revenue`` is
    the converted orders minus the converted refunds (a refund subtracts the absolute value
    of its amount); ``average_order_value`` is that net revenue over the converted orders.
    An amount in a currency without a rate (or not a number) is listed in ``unconverted``
    and left out of every sum; it still counts in ``orders``.

RFM
    Recency: whole days from the last order to the reference time (``config.as_of``, else
    the latest interaction). Frequency: orders. Monetary: lifetime revenue. Scores by the
    thresholds of :class:`RfmThresholds`. No order, no scores.

CLV
    ``years = max(reference - first interaction, min_observed_days) / 365.25 days``;
    ``revenue_per_year = lifetime_revenue / years``;
    ``contacts_per_year = contacts / years`` (touchpoints of ``contact_types``);
    ``annual_margin = revenue_per_year * margin_rate
    - contacts_per_year * serving_cost_per_contact``;
    ``clv = sum(annual_margin / (1 + annual_discount_rate) ** t for t in 1..horizon_years)``.
    It may be negative: a customer who costs more to serve than they bring.

Satisfaction
    NPS (0-10) and CSAT (1-5) from ``survey_response`` touchpoints: the latest answer and
    the mean of all answers (two decimals). Call ratings are not surveys and do not count.

Complaints
    A ``complaint`` stays open until a later (or simultaneous) ``complaint_resolved``
    touchpoint closes it: the one named by its ``complaint_event_id`` property, else every
    earlier complaint of its ``category`` property, else every earlier complaint.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from crm_customer_view.domain.config import ClvInputs, ProjectionConfig, RfmThresholds
from crm_customer_view.domain.values import (
    ComplaintProperties,
    GenericProperties,
    OrderProperties,
    RefundProperties,
    SurveyResponseProperties,
    Touchpoint,
)

__all__ = [
    "DECIMAL_CONTEXT",
    "ChannelSummary",
    "ClvEstimate",
    "OpenComplaint",
    "OrderMetrics",
    "RfmScores",
    "Satisfaction",
    "ScoreSummary",
    "Unconverted",
    "cents",
    "channel_summaries",
    "clv_estimate",
    "open_complaints",
    "order_metrics",
    "rfm_scores",
    "satisfaction",
]

DECIMAL_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
"""The one arithmetic context of the fold (never the thread's, which anyone may change)."""

_CENT = Decimal("0.01")
_DAY_SECONDS = Decimal(86_400)
_YEAR_DAYS = Decimal("365.25")


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded half-even to two decimals."""
    return amount.quantize(_CENT, context=DECIMAL_CONTEXT)


# --- channels ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSummary:
    channel: str
    interactions: int
    first_interaction: datetime
    last_interaction: datetime


def channel_summaries(touchpoints: Sequence[Touchpoint]) -> tuple[ChannelSummary, ...]:
    """Per channel (sorted by name): how many interactions, the first and the last."""
    seen: dict[str, list[Touchpoint]] = {}
    for touchpoint in touchpoints:
        seen.setdefault(touchpoint.channel, []).append(touchpoint)
    return tuple(
        ChannelSummary(channel, len(items), items[0].occurred_at, items[-1].occurred_at)
        for channel, items in sorted(seen.items())
    )


# --- orders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unconverted:
    """An order or refund whose amount could not be brought to the base currency."""

    event_id: str
    type: str
    amount: str
    currency: str


@dataclass(frozen=True)
class OrderMetrics:
    currency: str
    orders: int
    lifetime_revenue: Decimal
    average_order_value: Decimal | None
    last_order_at: datetime | None
    unconverted: tuple[Unconverted, ...] = ()
    exact_revenue: Decimal = Decimal(0)  # unrounded, for RFM and CLV


def order_metrics(touchpoints: Sequence[Touchpoint], config: ProjectionConfig) -> OrderMetrics:
    """Orders, lifetime revenue (refunds subtract), AOV and last order, in the base currency."""
    orders: dict[str, Touchpoint] = {}
    refunds: list[Touchpoint] = []
    for touchpoint in touchpoints:  # ascending, so the latest of an order_id stays
        match touchpoint.properties:
            case OrderProperties(order_id=order_id):
                orders[order_id or f"event:{touchpoint.event_id}"] = touchpoint
            case RefundProperties():
                refunds.append(touchpoint)
    unconverted: list[Unconverted] = []
    with localcontext(DECIMAL_CONTEXT):
        sales = _converted(sorted(orders.values(), key=_chronological), config, unconverted)
        returns = _converted(refunds, config, unconverted)
        revenue = sum(sales, Decimal(0)) - sum((abs(r) for r in returns), Decimal(0))
        average = cents(revenue / len(sales)) if sales else None
    last = max((t.occurred_at for t in orders.values()), default=None)
    return OrderMetrics(config.base_currency, len(orders), cents(revenue), average, last,
                        tuple(unconverted), revenue)


def _chronological(touchpoint: Touchpoint) -> tuple[datetime, str]:
    return touchpoint.occurred_at, touchpoint.event_id


def _converted(
    touchpoints: Sequence[Touchpoint], config: ProjectionConfig, unconverted: list[Unconverted]
) -> list[Decimal]:
    """The amounts in the base currency; those that cannot be converted go to
    ``unconverted``."""
    amounts = []
    for touchpoint in touchpoints:
        properties = touchpoint.properties
        if not isinstance(properties, OrderProperties | RefundProperties):
            continue
        money = properties.amount
        amount = money.decimal()
        converted = None if amount is None else config.to_base(amount, money.currency)
        if converted is None:
            unconverted.append(
                Unconverted(touchpoint.event_id, touchpoint.type, money.amount, money.currency))
        else:
            amounts.append(converted)
    return amounts


# --- RFM -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RfmScores:
    recency: int
    frequency: int
    monetary: int
    days_since_last_order: int

    @property
    def code(self) -> str:
        """The classic three-digit cell, e.g. ``"545"``."""
        return f"{self.recency}{self.frequency}{self.monetary}"


def rfm_scores(
    orders: OrderMetrics, reference: datetime | None, thresholds: RfmThresholds
) -> RfmScores | None:
    """Scores 1-5 of recency, frequency and monetary value; None without an order."""
    if orders.last_order_at is None or reference is None:
        return None
    days = max(0, (reference - orders.last_order_at).days)
    recency = 5 - sum(days > cut for cut in thresholds.recency_days)
    frequency = 1 + sum(orders.orders >= cut for cut in thresholds.frequency_orders)
    monetary = 1 + sum(orders.lifetime_revenue >= cut for cut in thresholds.monetary)
    return RfmScores(recency, frequency, monetary, days)


# --- CLV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClvEstimate:
    """The estimate and the figures it was computed from (all in the base currency)."""

    value: Decimal
    annual_margin: Decimal
    revenue_per_year: Decimal
    contacts_per_year: Decimal
    observed_days: int
    horizon_years: int


def clv_estimate(
    touchpoints: Sequence[Touchpoint],
    orders: OrderMetrics,
    reference: datetime | None,
    inputs: ClvInputs,
) -> ClvEstimate | None:
    """The discounted margin over the horizon (formula in the module docstring); None
    without any interaction."""
    if not touchpoints or reference is None:
        return None
    with localcontext(DECIMAL_CONTEXT):
        observed = max(_seconds(reference - touchpoints[0].occurred_at) / _DAY_SECONDS,
                       Decimal(inputs.min_observed_days))
        years = observed / _YEAR_DAYS
        contacts = sum(1 for t in touchpoints if t.type in inputs.contact_types)
        revenue_per_year = orders.exact_revenue / years
        contacts_per_year = contacts / years
        annual_margin = (revenue_per_year * inputs.margin_rate
                         - contacts_per_year * inputs.serving_cost_per_contact)
        growth = 1 + inputs.annual_discount_rate
        value = sum((annual_margin / growth**year
                     for year in range(1, inputs.horizon_years + 1)), Decimal(0))
    return ClvEstimate(cents(value), cents(annual_margin), cents(revenue_per_year),
                       cents(contacts_per_year), int(observed), inputs.horizon_years)


def _seconds(delta: timedelta) -> Decimal:
    """Exact seconds of a timedelta (``total_seconds`` is a float)."""
    return Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds) / 10**6


# --- satisfaction --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreSummary:
    latest: int | None
    average: Decimal | None
    responses: int


@dataclass(frozen=True)
class Satisfaction:
    nps: ScoreSummary
    csat: ScoreSummary


def satisfaction(touchpoints: Sequence[Touchpoint]) -> Satisfaction:
    """Latest and average NPS and CSAT of the survey responses."""
    surveys = [t.properties for t in touchpoints
               if isinstance(t.properties, SurveyResponseProperties)]
    return Satisfaction(
        _summary([s.nps for s in surveys if s.nps is not None]),
        _summary([s.csat for s in surveys if s.csat is not None]),
    )


def _summary(scores: list[int]) -> ScoreSummary:
    if not scores:
        return ScoreSummary(None, None, 0)
    with localcontext(DECIMAL_CONTEXT):
        average = cents(Decimal(sum(scores)) / len(scores))
    return ScoreSummary(scores[-1], average, len(scores))


# --- complaints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenComplaint:
    event_id: str
    channel: str
    category: str
    severity: str
    occurred_at: datetime


RESOLUTION_TYPE = "complaint_resolved"


def open_complaints(touchpoints: Sequence[Touchpoint]) -> tuple[OpenComplaint, ...]:
    """Complaints no resolution closes, oldest first."""
    resolutions = [(t, _fields(t)) for t in touchpoints if t.type == RESOLUTION_TYPE]
    return tuple(
        OpenComplaint(t.event_id, t.channel, t.properties.category, t.properties.severity,
                      t.occurred_at)
        for t in touchpoints
        if isinstance(t.properties, ComplaintProperties)
        and not any(_closes(r, fields, t, t.properties) for r, fields in resolutions)
    )


def _closes(
    resolution: Touchpoint, fields: dict[str, str], complaint: Touchpoint,
    properties: ComplaintProperties,
) -> bool:
    if "complaint_event_id" in fields:
        return fields["complaint_event_id"] == complaint.event_id
    if resolution.occurred_at < complaint.occurred_at:
        return False
    return fields.get("category", properties.category) == properties.category


def _fields(touchpoint: Touchpoint) -> dict[str, str]:
    """The string properties of a generic touchpoint."""
    if not isinstance(touchpoint.properties, GenericProperties):
        return {}
    decoded = json.loads(touchpoint.properties.json)
    if not isinstance(decoded, dict):
        return {}
    return {key: value for key, value in decoded.items() if isinstance(value, str)}
