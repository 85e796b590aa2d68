"""Settings of the customer_view service (environment variables, see deploy/.env.example)."""

from __future__ import annotations

from crm_servicekit import ServiceSettings

__all__ = ["CustomerViewSettings"]


class CustomerViewSettings(ServiceSettings):
    service_name: str = "customer_view"
    http_port: int = 8005
