"""``python -m crm_messaging.dlq``: inspect and replay a topic's dead letters.

``list --topic crm.x.v1`` prints every letter on ``crm.x.v1.dlq``: where it came
from, which consumer group gave up on it, why and when, and whether it is still
pending replay. ``replay --topic crm.x.v1`` re-produces the pending letters onto
the topic they came from (same key, so same partition and order; the ``dlq.*``
headers stripped, trace headers kept) and commits its own consumer-group offset
on the ``.dlq`` topic after each acknowledged batch, so a drained letter is not
replayed twice. A crash between the acknowledgement and the commit replays that
batch again: consumers see a duplicate, which their inbox makes harmless.

Replayed letters reach every consumer group of the topic; groups that had
processed them already find their event ids in the inbox and change nothing.
Exit codes: 0 done, 1 failed (broker unreachable, no such topic), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from crm_messaging.reading import records_to_end
from crm_messaging.topics import DLQ_SUFFIX, dead_letter_topic

__all__ = [
    "DEFAULT_REPLAY_GROUP",
    "DeadLetterRecord",
    "DlqError",
    "list_dead_letters",
    "main",
    "replay_dead_letters",
]

DEFAULT_REPLAY_GROUP = "crm-dlq-replay"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_DLQ_HEADER_PREFIX = "dlq."
Headers = tuple[tuple[str, bytes], ...]


class DlqError(Exception):
    """The dead-letter topic cannot be read or replayed; the message says why."""


@dataclass(frozen=True)
class DeadLetterRecord:
    """One dead letter: its place on the ``.dlq`` topic, its origin and the original bytes."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    pending: bool = True

    def header(self, name: str, default: str = "?") -> str:
        """The value of header ``name``, decoded, or ``default``."""
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return default

    @property
    def origin_topic(self) -> str | None:
        """The topic the letter was consumed from (``dlq.origin.topic``)."""
        found = self.header("dlq.origin.topic", "")
        return found or None

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The original headers: everything but the ``dlq.*`` ones the consumer added."""
        return [(k, v) for k, v in self.headers if not k.startswith(_DLQ_HEADER_PREFIX)]

    def describe(self) -> str:
        """One tab-separated line: position, origin, group, time, state, reason."""
        origin = (f"{self.header('dlq.origin.topic')}[{self.header('dlq.origin.partition')}]"
                  f"@{self.header('dlq.origin.offset')}")
        state = "pending" if self.pending else "replayed"
        return "\t".join([f"{self.partition}:{self.offset}", origin,
                          self.header("dlq.consumer.group"), self.header("dlq.failed_at"),
                          state, self.header("dlq.reason")])


async def list_dead_letters(
    bootstrap_servers: str, topic: str, group: str = DEFAULT_REPLAY_GROUP
) -> list[DeadLetterRecord]:
    """Every letter on ``topic``'s dead-letter topic; ``pending`` relative to ``group``."""
    async with _dlq_reader(bootstrap_servers, topic, group) as reader:
        committed = {tp: await reader.committed(tp) for tp in reader.partitions}
        letters: list[DeadLetterRecord] = []
        for tp in reader.partitions:
            reader.consumer.seek(tp, await reader.first_offset(tp))
        async for record in reader.records():
            done = committed[TopicPartition(record.topic, record.partition)] or 0
            letters.append(_letter(record, pending=record.offset >= done))
        return letters


async def replay_dead_letters(
    bootstrap_servers: str, topic: str, group: str = DEFAULT_REPLAY_GROUP
) -> list[DeadLetterRecord]:
    """Re-produce every letter ``group`` has not replayed yet; returns what was replayed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await _start(producer, bootstrap_servers)
    replayed: list[DeadLetterRecord] = []
    try:
        async with _dlq_reader(bootstrap_servers, topic, group) as reader:
            async for batch in reader.batches():
                for record in batch:
                    letter = _letter(record)
                    delivery = await producer.send(
                        letter.origin_topic or topic, letter.value, key=letter.key,
                        headers=letter.replay_headers())
                    await delivery
                    replayed.append(letter)
                last = batch[-1]
                await reader.consumer.commit(
                    {TopicPartition(last.topic, last.partition): last.offset + 1})
    finally:
        await producer.stop()
    return replayed


class _DlqReader:
    """A consumer assigned to every partition of a ``.dlq`` topic, up to its end at start."""

    def __init__(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        self.consumer = consumer
        self.partitions = partitions

    async def committed(self, tp: TopicPartition) -> int | None:
        return cast("int | None", await self.consumer.committed(tp))

    async def first_offset(self, tp: TopicPartition) -> int:
        return cast(int, (await self.consumer.beginning_offsets([tp]))[tp])

    async def batches(self) -> AsyncIterator[list[Any]]:
        """Records in batches of one partition each, until every partition reached its end."""
        async for batch in records_to_end(self.consumer, self.partitions):
            yield batch

    async def records(self) -> AsyncIterator[Any]:
        """Every record up to the end snapshot."""
        async for batch in self.batches():
            for record in batch:
                yield record


@asynccontextmanager
async def _dlq_reader(bootstrap_servers: str, topic: str, group: str) -> AsyncIterator[_DlqReader]:
    dlq = topic if topic.endswith(DLQ_SUFFIX) else dead_letter_topic(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await _start(consumer, bootstrap_servers)
    try:
        if dlq not in await consumer.topics():
            raise DlqError(f"no topic {dlq} on {bootstrap_servers}")
        partitions = [TopicPartition(dlq, p)
                      for p in sorted(consumer.partitions_for_topic(dlq) or ())]
        consumer.assign(partitions)
        yield _DlqReader(consumer, partitions)
    finally:
        await consumer.stop()


async def _start(client: AIOKafkaConsumer | AIOKafkaProducer, bootstrap_servers: str) -> None:
    try:
        await client.start()
    except KafkaError as exc:
        await client.stop()
        raise DlqError(f"cannot reach the Kafka broker at {bootstrap_servers}: {exc}") from exc


def _letter(record: Any, *, pending: bool = True) -> DeadLetterRecord:
    headers = tuple((str(k), bytes(v)) for k, v in (record.headers or ()))
    return DeadLetterRecord(int(record.partition), int(record.offset), record.key,
                            record.value, headers, pending)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--topic", required=True,
                        help="the original topic, e.g. crm.profiles.v1 (its .dlq is read)")
    common.add_argument("--bootstrap-servers",
                        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
                        help="default: $KAFKA_BOOTSTRAP_SERVERS or localhost:9092")
    common.add_argument("--group", default=DEFAULT_REPLAY_GROUP,
                        help=f"the replay tool's consumer group (default: {DEFAULT_REPLAY_GROUP})")
    parser = argparse.ArgumentParser(prog="python -m crm_messaging.dlq",
                                     description="Inspect and replay dead-letter topics.")
    commands = parser.add_subparsers(dest="action", required=True, metavar="COMMAND")
    commands.add_parser("list", parents=[common], help="print every dead letter")
    commands.add_parser("replay", parents=[common],
                        help="re-produce pending dead letters onto their original topic")
    return parser


async def _run(args: argparse.Namespace) -> int:
    if args.action == "list":
        letters = await list_dead_letters(args.bootstrap_servers, args.topic, args.group)
        pending = sum(letter.pending for letter in letters)
        print(f"# {dead_letter_topic(args.topic.removesuffix(DLQ_SUFFIX))}: {len(letters)} "
              f"dead letter(s), {pending} pending replay by group {args.group}")
        for letter in letters:
            print(letter.describe())
        return EXIT_OK
    replayed = await replay_dead_letters(args.bootstrap_servers, args.topic, args.group)
    for letter in replayed:
        print(f"replayed {letter.partition}:{letter.offset} -> {letter.origin_topic or args.topic}")
    print(f"# {len(replayed)} dead letter(s) replayed", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry point; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return asyncio.run(_run(args))
    except DlqError as exc:
        print(f"dlq: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
