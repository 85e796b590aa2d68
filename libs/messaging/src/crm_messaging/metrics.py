"""Prometheus metrics of the messaging mechanisms (relay and consumers)."""

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "CONSUMER_LAG",
    "CONSUMER_MESSAGES",
    "OUTBOX_PENDING",
    "RELAY_BATCH_SECONDS",
    "RELAY_PUBLISHED",
    "RELAY_REPUBLISHED",
]

RELAY_PUBLISHED = Counter(
    "crm_relay_published_total", "Events published from the outbox to Kafka",
    ["producer", "topic"],
)
RELAY_REPUBLISHED = Counter(
    "crm_relay_republished_total",
    "Events queued again because the broker had lost a topic", ["producer", "topic"],
)
RELAY_BATCH_SECONDS = Histogram(
    "crm_relay_batch_seconds", "Time to publish one outbox batch and acknowledge it",
    ["producer"],
)
OUTBOX_PENDING = Gauge(
    "crm_outbox_pending", "Outbox entries waiting to be published", ["producer"],
)
CONSUMER_LAG = Gauge(
    "crm_consumer_lag", "Messages between the consumer's position and the partition end",
    ["group", "topic", "partition"],
)
CONSUMER_MESSAGES = Counter(
    "crm_consumer_messages_total",
    "Consumed messages by outcome (processed, duplicate, retried, dead_lettered)",
    ["group", "topic", "outcome"],
)
