"""Settings of the customer view (environment variables, see deploy/.env.example)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import Field, field_validator

from crm_customer_view.domain import ClvInputs, ProjectionConfig
from crm_servicekit import ServiceSettings

__all__ = ["CustomerViewSettings"]


class CustomerViewSettings(ServiceSettings):
    service_name: str = "customer_view"
    http_port: int = 8005
    profiles_topic: str = Field(default="crm.profiles.v1",
                                description="the topic the projection consumes")
    view_consumer_group: str = Field(default="customer_view.projection",
                                     description="consumer group of the projection")
    lookup_phone_region: str = Field(default="US",
                                     description="region for looked-up phones without +country")
    base_currency: str = Field(default="EUR", description="currency of order metrics")
    exchange_rates: str = Field(
        default="", description="units of the base currency per unit, e.g. USD=0.92,GBP=1.17")
    clv_margin_rate: Decimal = Decimal("0.30")
    clv_serving_cost_per_contact: Decimal = Decimal("2.00")
    clv_annual_discount_rate: Decimal = Decimal("0.10")
    clv_horizon_years: int = Field(default=3, ge=1)

    @field_validator("exchange_rates")
    @classmethod
    def _rates(cls, value: str) -> str:
        _parse_rates(value)
        return value

    def projection_config(self) -> ProjectionConfig:
        """The fold's configuration: currency, rates and CLV inputs (docs/customer-view.md)."""
        return ProjectionConfig(
            base_currency=self.base_currency.upper(),
            exchange_rates=_parse_rates(self.exchange_rates),
            clv=ClvInputs(margin_rate=self.clv_margin_rate,
                          serving_cost_per_contact=self.clv_serving_cost_per_contact,
                          annual_discount_rate=self.clv_annual_discount_rate,
                          horizon_years=self.clv_horizon_years),
        )


def _parse_rates(text: str) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        code, _, rate = item.partition("=")
        try:
            rates[code.strip().upper()] = Decimal(rate.strip())
        except InvalidOperation:
            raise ValueError(f"exchange rate {item!r} is not CODE=decimal") from None
    return rates
