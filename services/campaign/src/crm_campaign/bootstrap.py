"""The composition root of the campaign service: the one place that wires it together."""

from __future__ import annotations

from fastapi import FastAPI

from crm_campaign.settings import CampaignSettings
from crm_servicekit import ServiceSettings, create_app
from crm_servicekit.relay_worker import outbox_relay
from crm_servicekit.service import ServiceDefinition

__all__ = ["SERVICE", "build_app"]


def build_app(settings: ServiceSettings) -> FastAPI:
    """The campaign service's app: its routes, and the workers it runs."""
    return create_app(settings, background=[outbox_relay])


SERVICE = ServiceDefinition(name="campaign", settings_type=CampaignSettings, build_app=build_app)
