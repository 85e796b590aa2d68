"""The composition root of the profile service: the one place that wires it together."""

from __future__ import annotations

from fastapi import FastAPI

from crm_profile.settings import ProfileSettings
from crm_servicekit import ServiceSettings, create_app
from crm_servicekit.relay_worker import outbox_relay
from crm_servicekit.service import ServiceDefinition

__all__ = ["SERVICE", "build_app"]


def build_app(settings: ServiceSettings) -> FastAPI:
    """The profile service's app: its routes, and the workers it runs."""
    return create_app(settings, workers=[outbox_relay])


SERVICE = ServiceDefinition(name="profile", settings_type=ProfileSettings, build_app=build_app)
