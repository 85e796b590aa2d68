"""The composition root of the customer view: the one place that wires it together."""

from __future__ import annotations

from fastapi import FastAPI

from crm_customer_view.app.changelog import changelog_seal
from crm_customer_view.app.projection import CustomerViewProjection
from crm_customer_view.entrypoints.api import customer_router
from crm_customer_view.settings import CustomerViewSettings
from crm_eventstore import MigrationSet
from crm_servicekit import ServiceSettings, create_app
from crm_servicekit.consumer_worker import consumer_worker
from crm_servicekit.relay_worker import sealing_outbox_relay
from crm_servicekit.service import ServiceDefinition

__all__ = ["SERVICE", "build_app"]

MIGRATIONS = MigrationSet("customer_view", "crm_customer_view")


def build_app(settings: ServiceSettings) -> FastAPI:
    """The customer view: the projection of crm.profiles.v1, its query API, and the
    outbox relay that publishes its changelog (crm.customer-view.v1)."""
    assert isinstance(settings, CustomerViewSettings)
    config = settings.projection_config()
    return create_app(
        settings,
        routers=[customer_router(settings.lookup_phone_region)],
        background=[
            # The projection files events by id and recomputes: a redelivered event
            # changes nothing (tests/service/test_changelog.py), so no inbox.
            consumer_worker([settings.profiles_topic], settings.view_consumer_group,
                            batch_handler_for=lambda ctx: CustomerViewProjection(
                                config, vault=ctx.vault), inbox=False),
            sealing_outbox_relay(changelog_seal),
        ],
    )


SERVICE = ServiceDefinition(name="customer_view", settings_type=CustomerViewSettings,
                            build_app=build_app, migrations=[MIGRATIONS])
