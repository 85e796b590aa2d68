"""The outbox relay as a service worker: every service that appends events runs one."""

from __future__ import annotations

from crm_messaging import OutboxRelay, SealPolicy
from crm_servicekit.context import ServiceContext
from crm_servicekit.workers import Worker

__all__ = ["outbox_relay", "sealing_outbox_relay"]


async def outbox_relay(ctx: ServiceContext) -> None:
    """Publish this service's outbox to Kafka (one leader per schema) until cancelled."""
    await _relay(ctx, None).run()


def sealing_outbox_relay(seal: SealPolicy) -> Worker:
    """The outbox relay of a service whose events carry personal data: ``seal`` names
    the vault key that seals each event's payload (``None``: published in the clear)."""

    async def relay(ctx: ServiceContext) -> None:
        await _relay(ctx, seal).run()

    relay.__qualname__ = "outbox_relay"
    return relay


def _relay(ctx: ServiceContext, seal: SealPolicy | None) -> OutboxRelay:
    return OutboxRelay(
        ctx.engine, ctx.producer,
        producer_name=ctx.settings.service_name,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        seal=seal, vault=None if seal is None else ctx.vault,
    )
