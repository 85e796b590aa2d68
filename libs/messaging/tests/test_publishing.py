import uuid
from collections import defaultdict

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_devstack.testing import create_topic, read_topic
from crm_messaging.envelopes import OutboundRecord
from crm_messaging.publishing import key_partition, murmur2, publish_all


async def test_batches_land_where_send_would_put_each_key_in_order(
    producer: AIOKafkaProducer, kafka_bootstrap: str,
) -> None:
    batched, sent = f"test.batched.{uuid.uuid4().hex[:8]}", f"test.sent.{uuid.uuid4().hex[:8]}"
    for topic in (batched, sent):
        await create_topic(kafka_bootstrap, topic, partitions=4)
    keys = [f"customer-{n}".encode() for n in range(9)]
    records = [OutboundRecord(batched, keys[n % 9], f"{n}".encode() * (1 + n % 7),
                              [("event-id", str(n).encode())]) for n in range(3_000)]

    await publish_all(producer, records)
    for record in records[:9]:
        await producer.send_and_wait(sent, record.value, key=record.key)

    on_topic = await read_topic(kafka_bootstrap, batched, at_least=3_000)
    reference = {r.key: r.partition for r in await read_topic(kafka_bootstrap, sent, at_least=9)}
    partitions, order = defaultdict(set), defaultdict(list)
    for r in sorted(on_topic, key=lambda r: (r.partition, r.offset)):
        partitions[r.key].add(r.partition)
        order[r.key].append(int(dict(r.headers)["event-id"]))
    assert len(on_topic) == 3_000
    assert {k: p.pop() for k, p in partitions.items() if len(p) == 1} == reference
    assert all(ids == sorted(ids) for ids in order.values())
    assert len({p for ps in partitions.values() for p in ps} | set(reference.values())) > 1


@settings(max_examples=1_000)
@given(st.binary(max_size=80), st.integers(min_value=1, max_value=64))
def test_keys_go_to_the_partition_kafkas_default_partitioner_chooses(
    key: bytes, partitions: int,
) -> None:
    every = list(range(partitions))
    assert every[key_partition(key, partitions)] == DefaultPartitioner()(key, every, every)
    assert murmur2(key) == aiokafka_murmur2(key) & 0xFFFFFFFF
