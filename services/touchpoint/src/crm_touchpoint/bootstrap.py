"""The composition root of the touchpoint service: the one place that wires it together."""

from __future__ import annotations

from fastapi import FastAPI

from crm_eventstore import MigrationSet
from crm_servicekit import ServiceSettings, create_app
from crm_servicekit.consumer_worker import consumer_worker
from crm_servicekit.relay_worker import sealing_outbox_relay
from crm_servicekit.service import ServiceDefinition
from crm_touchpoint.app.erasure import ERASURE_EVENT_TYPES, TouchpointErasure
from crm_touchpoint.app.ingestion import TouchpointIngestion
from crm_touchpoint.app.recording import touchpoint_seal
from crm_touchpoint.entrypoints.api import touchpoint_router
from crm_touchpoint.entrypoints.rate_limit import RateLimiter
from crm_touchpoint.settings import TouchpointSettings

__all__ = ["SERVICE", "build_app"]

MIGRATIONS = MigrationSet("touchpoint", "crm_touchpoint")


def build_app(settings: ServiceSettings) -> FastAPI:
    """The touchpoint service: ingestion API, group-commit recorder, outbox relay, and
    the erasure of touchpoints whose person was erased."""
    assert isinstance(settings, TouchpointSettings)
    ingestion = TouchpointIngestion(settings.ingestion_rules(),
                                    settings.partition_key_secret.get_secret_value().encode(),
                                    writers=settings.group_commit_writers,
                                    linger=settings.group_commit_linger_ms / 1000,
                                    linger_events=settings.group_commit_linger_events)
    limiter = RateLimiter(settings.rate_limit_events_per_second,
                          settings.rate_limit_burst_events)
    router, post_one = touchpoint_router(ingestion, limiter)
    return create_app(
        settings,
        routers=[router],
        direct=[post_one],
        workers=[ingestion.run],
        background=[
            sealing_outbox_relay(touchpoint_seal),
            # Erasure notices travel in the clear: nothing here to open.
            consumer_worker([settings.erasures_topic], settings.erasure_consumer_group,
                            batch_handler=TouchpointErasure(), open_sealed=False,
                            event_types=ERASURE_EVENT_TYPES),
        ],
    )


SERVICE = ServiceDefinition(
    name="touchpoint",
    settings_type=TouchpointSettings,
    build_app=build_app,
    migrations=[MIGRATIONS],
)
