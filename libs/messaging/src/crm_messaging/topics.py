"""The topic catalogue: every Kafka topic the platform uses, with its partitions.

Keys are customer-scoped so that one customer's events stay in order on one
partition. Each topic has a dead-letter twin ``<topic>.dlq``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

__all__ = ["ALL_TOPICS", "TOPICS", "Topic", "create_topics", "dead_letter_topic"]

DLQ_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``."""
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int = 6
    dlq_partitions: int = 1

    @property
    def dlq(self) -> str:
        return dead_letter_topic(self.name)


TOUCHPOINTS = Topic("crm.touchpoints.v1")
PROFILES = Topic("crm.profiles.v1")
CUSTOMER_VIEW = Topic("crm.customer-view.v1")
SEGMENTS = Topic("crm.segments.v1")
CAMPAIGNS = Topic("crm.campaigns.v1")
# The profile service's notices to services that keep touchpoints: which ones to erase,
# and suppressions. Rare: a topic of their own, so those services need not read (and the
# broker serve them) every event of crm.profiles.v1 to find them.
ERASURES = Topic("crm.erasures.v1", partitions=1)

TOPICS: tuple[Topic, ...] = (TOUCHPOINTS, PROFILES, CUSTOMER_VIEW, SEGMENTS, CAMPAIGNS,
                             ERASURES)
ALL_TOPICS: tuple[str, ...] = tuple(
    name for topic in TOPICS for name in (topic.name, topic.dlq)
)


async def create_topics(
    bootstrap_servers: str, topics: tuple[Topic, ...] = TOPICS, replication_factor: int = 1
) -> list[str]:
    """Create every topic and its dead-letter topic that does not exist yet.

    Returns the names that were created. Safe to run concurrently and repeatedly.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, partitions, replication_factor)
            for topic in topics
            for name, partitions in ((topic.name, topic.partitions),
                                     (topic.dlq, topic.dlq_partitions))
            if name not in existing
        ]
        created: list[str] = []
        for new_topic in wanted:
            try:
                await admin.create_topics([new_topic])
                created.append(new_topic.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m crm_messaging.topics``: create every topic and dead-letter topic."""
    import argparse
    import asyncio
    import os

    parser = argparse.ArgumentParser(description="Create the platform's Kafka topics.")
    parser.add_argument("--bootstrap-servers",
                        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"))
    parser.add_argument("--replication-factor", type=int,
                        default=int(os.environ.get("KAFKA_REPLICATION_FACTOR", "1")))
    args = parser.parse_args(argv)
    created = asyncio.run(create_topics(args.bootstrap_servers, TOPICS, args.replication_factor))
    print(f"topics created: {', '.join(created) or 'none (all existed)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
