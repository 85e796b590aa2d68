"""A Kafka consumer (the consumer kit) as a service worker."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence

from crm_eventstore import EventStore
from crm_messaging import BatchHandler, Consumer, ConsumerSettings, Handler
from crm_servicekit.context import ServiceContext
from crm_servicekit.workers import Worker

__all__ = ["consumer_worker"]


def consumer_worker(
    topics: Sequence[str], group: str, handler: Handler | None = None,
    settings: ConsumerSettings | None = None, batch_handler: BatchHandler | None = None,
    *, open_sealed: bool = True,
    batch_handler_for: Callable[[ServiceContext], BatchHandler] | None = None,
    event_types: Collection[str] | None = None,
    inbox: bool = True,
) -> Worker:
    """A worker consuming ``topics`` as a member of ``group``, applying ``handler``
    (one message at a time) or ``batch_handler`` (a chunk per transaction).

    Sealed payloads are opened with the key vault before the handler sees them; a
    consumer that reads only events published in the clear (erasure announcements)
    passes ``open_sealed=False`` and spares the vault its queries. A handler that needs
    the running service's resources (the key vault) is made by ``batch_handler_for``.
    ``inbox=False``: the handler is idempotent by itself (see ``crm_messaging.consumer``)."""

    async def consume(ctx: ServiceContext) -> None:
        session_ms = ctx.settings.consumer_session_timeout_ms
        consumer_settings = dataclasses.replace(
            settings or ConsumerSettings(), session_timeout_ms=session_ms,
            heartbeat_interval_ms=session_ms // 3)
        consumer = Consumer(
            bootstrap_servers=ctx.settings.kafka_bootstrap_servers, group_id=group,
            topics=topics, handler=handler,
            batch_handler=batch_handler_for(ctx) if batch_handler_for else batch_handler,
            store=EventStore(ctx.engine),
            producer=ctx.producer, settings=consumer_settings,
            client_id=f"{ctx.settings.service_name}-{group}",
            vault=ctx.vault if open_sealed else None, event_types=event_types, inbox=inbox,
        )
        await consumer.run()

    consume.__qualname__ = f"consumer[{group}]"
    return consume
