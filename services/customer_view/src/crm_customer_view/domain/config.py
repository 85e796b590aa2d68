"""What the projection is configured with: base currency, rates, RFM thresholds, CLV inputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

__all__ = ["DEFAULT_CONTACT_TYPES", "ClvInputs", "ProjectionConfig", "RfmThresholds"]

DEFAULT_CONTACT_TYPES: frozenset[str] = frozenset({
    "call", "complaint", "store_visit", "email_sent", "sms_sent", "direct_mail_sent",
    "social_message",
})
"""Touchpoint types that cost us something to serve (a person or a send)."""


@dataclass(frozen=True)
class RfmThresholds:
    """Four ascending cut points per dimension give scores 1-5.

    - recency: score 5 when the last order is at most ``recency_days[0]`` days before the
      reference time, 4 within ``[1]``, 3 within ``[2]``, 2 within ``[3]``, else 1;
    - frequency (orders) and monetary (lifetime revenue in the base currency):
      1 + the number of cut points the value reaches (``value >= cut``).
    """

    recency_days: tuple[int, int, int, int] = (30, 90, 180, 365)
    frequency_orders: tuple[int, int, int, int] = (2, 3, 5, 10)
    monetary: tuple[Decimal, Decimal, Decimal, Decimal] = (
        Decimal(100), Decimal(250), Decimal(500), Decimal(1000))

    def __post_init__(self) -> None:
        for name in ("recency_days", "frequency_orders", "monetary"):
            cuts = getattr(self, name)
            if len(cuts) != 4 or list(cuts) != sorted(cuts) or cuts[0] < 0:
                raise ValueError(f"rfm {name} must be four ascending non-negative cut points")


@dataclass(frozen=True)
class ClvInputs:
    """Inputs of the CLV estimate (formula: ``crm_customer_view.domain.metrics``).

    ``margin_rate``: share of revenue that is margin (0.30 = 30 %);
    ``serving_cost_per_contact``: base-currency cost of one contact (a touchpoint whose type
    is in ``contact_types``); ``annual_discount_rate``: 0.10 = 10 % a year;
    ``horizon_years``: years projected; ``min_observed_days``: the shortest history the
    annual rates are computed over (a first order today is not 365 orders a year).
    """

    margin_rate: Decimal = Decimal("0.30")
    serving_cost_per_contact: Decimal = Decimal("2.00")
    annual_discount_rate: Decimal = Decimal("0.10")
    horizon_years: int = 3
    contact_types: frozenset[str] = DEFAULT_CONTACT_TYPES
    min_observed_days: int = 365

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.margin_rate <= Decimal(1):
            raise ValueError("clv margin_rate must be between 0 and 1")
        if self.serving_cost_per_contact < 0 or self.annual_discount_rate < 0:
            raise ValueError("clv serving cost and discount rate must not be negative")
        if self.horizon_years < 1 or self.min_observed_days < 1:
            raise ValueError("clv horizon_years and min_observed_days must be at least 1")


@dataclass(frozen=True)
class ProjectionConfig:
    """Everything the fold depends on besides the facts.

    ``exchange_rates``: units of ``base_currency`` per unit of each other currency (the
    base currency itself is 1). An amount in a currency without a rate is listed as
    unconverted, never guessed. ``as_of``: the reference time of RFM recency and CLV
    tenure; None (the default) uses the customer's latest interaction, so that a rebuild
    gives the identical record whenever it runs (wall-clock time is never read).
    """

    base_currency: str = "EUR"
    exchange_rates: Mapping[str, Decimal] = field(default_factory=dict)
    rfm: RfmThresholds = field(default_factory=RfmThresholds)
    clv: ClvInputs = field(default_factory=ClvInputs)
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        if len(self.base_currency) != 3 or not self.base_currency.isupper():
            raise ValueError(f"base_currency {self.base_currency!r} is not an ISO 4217 code")
        if any(rate <= 0 for rate in self.exchange_rates.values()):
            raise ValueError("exchange rates must be positive")
        if self.as_of is not None and self.as_of.utcoffset() is None:
            raise ValueError("as_of must be timezone-aware")
        rates = MappingProxyType(dict(self.exchange_rates))
        object.__setattr__(self, "exchange_rates", rates)  # frozen: a read-only copy

    def to_base(self, amount: Decimal, currency: str) -> Decimal | None:
        """``amount`` in the base currency, or None without a rate for ``currency``."""
        if currency == self.base_currency:
            return amount
        rate = self.exchange_rates.get(currency)
        return None if rate is None else amount * rate
