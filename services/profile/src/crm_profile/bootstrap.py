"""The composition root of the profile service: the one place that wires it together."""

from __future__ import annotations

from fastapi import FastAPI

from crm_eventstore import MigrationSet
from crm_profile.app.erasure import Eraser
from crm_profile.app.profile_events import profile_seal
from crm_profile.app.resolution import TouchpointResolver
from crm_profile.app.suppression import Suppression
from crm_profile.entrypoints.api import profile_router
from crm_profile.entrypoints.erasure import erasure_router
from crm_profile.entrypoints.split import split_router
from crm_profile.settings import ProfileSettings
from crm_servicekit import ServiceSettings, create_app
from crm_servicekit.consumer_worker import consumer_worker
from crm_servicekit.relay_worker import sealing_outbox_relay
from crm_servicekit.service import ServiceDefinition

__all__ = ["SERVICE", "build_app"]

MIGRATIONS = MigrationSet("profile", "crm_profile")


def build_app(settings: ServiceSettings) -> FastAPI:
    """The profile service: identity resolution of every touchpoint, and its API."""
    assert isinstance(settings, ProfileSettings)
    token_key = settings.erasure_token_key.get_secret_value().encode()
    rules = settings.identity_rules()
    return create_app(
        settings,
        routers=[profile_router(), erasure_router(Eraser(token_key)), split_router(settings)],
        # With IDENTITY_CONSUMERS + 1 background processes, each worker has one of its own.
        background=[
            *(consumer_worker(
                [settings.touchpoints_topic], settings.identity_consumer_group,
                batch_handler_for=lambda ctx: TouchpointResolver(
                    rules, Suppression(token_key, ctx.vault)),
                # Idempotent by itself: a touchpoint already resolved is skipped (its
                # evidence is stored with its decisions), a suppressed one's key is
                # destroyed (a copy again is unreadable, passed over).
                inbox=False) for _ in range(settings.identity_consumers)),
            sealing_outbox_relay(profile_seal),
        ],
    )


SERVICE = ServiceDefinition(
    name="profile", settings_type=ProfileSettings, build_app=build_app, migrations=[MIGRATIONS])
