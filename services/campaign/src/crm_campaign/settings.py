"""Settings of the campaign service (environment variables, see deploy/.env.example)."""

from __future__ import annotations

from crm_servicekit import ServiceSettings

__all__ = ["CampaignSettings"]


class CampaignSettings(ServiceSettings):
    service_name: str = "campaign"
    http_port: int = 8004
