"""The outbox relay as a service worker: every service that appends events runs one."""

from __future__ import annotations

from crm_messaging import OutboxRelay
from crm_servicekit.context import ServiceContext

__all__ = ["outbox_relay"]


async def outbox_relay(ctx: ServiceContext) -> None:
    """Publish this service's outbox to Kafka (one leader per schema) until cancelled."""
    relay = OutboxRelay(
        ctx.engine, ctx.producer,
        producer_name=ctx.settings.service_name,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
    )
    await relay.run()
