"""Settings of the touchpoint service (environment variables, see deploy/.env.example)."""

from __future__ import annotations

from crm_servicekit import ServiceSettings

__all__ = ["TouchpointSettings"]


class TouchpointSettings(ServiceSettings):
    service_name: str = "touchpoint"
    http_port: int = 8001
