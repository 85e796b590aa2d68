"""Publishing many records at once: one Kafka record batch per partition.

``AIOKafkaProducer.send`` costs tens of microseconds of Python per record (it
partitions, sizes and queues each one). A relay publishes hundreds at a time, so it
partitions them itself and hands the producer whole batches: the records of one
partition keep their order (batches of a partition are sent one after the other), and
the partition of a key is the one ``send`` would choose (the default partitioner:
murmur2 of the key over the topic's partitions), so a key's events stay on one
partition whichever way they were published.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from crm_messaging.envelopes import OutboundRecord

__all__ = ["publish_all"]

_PARTITIONER = DefaultPartitioner()


async def publish_all(producer: AIOKafkaProducer, records: Iterable[OutboundRecord]) -> None:
    """Send ``records`` in order per partition and wait until Kafka acknowledged all."""
    partitions: dict[str, list[int]] = {}
    open_batches: dict[tuple[str, int], Any] = {}
    deliveries: list[asyncio.Future[Any]] = []
    for record in records:
        if record.topic not in partitions:
            partitions[record.topic] = sorted(await producer.partitions_for(record.topic))
        every = partitions[record.topic]
        partition = _PARTITIONER(record.key, every, every)
        where = (record.topic, partition)
        batch = open_batches.get(where)
        if batch is None or not _append(batch, record):
            if batch is not None:
                deliveries.append(await producer.send_batch(batch, record.topic,
                                                            partition=partition))
            batch = open_batches[where] = producer.create_batch()
            if not _append(batch, record):
                raise ValueError(f"a record of {len(record.value)} bytes for {record.topic}"
                                 " does not fit in an empty batch")
    for (topic, partition), batch in open_batches.items():
        deliveries.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*deliveries)


def _append(batch: Any, record: OutboundRecord) -> bool:
    return batch.append(timestamp=None, key=record.key, value=record.value,
                        headers=record.headers) is not None
