"""Settings of the profile service (environment variables, see deploy/.env.example)."""

from __future__ import annotations

from crm_servicekit import ServiceSettings

__all__ = ["ProfileSettings"]


class ProfileSettings(ServiceSettings):
    service_name: str = "profile"
    http_port: int = 8002
