"""Kafka mechanisms shared by every service: topics, outbox relay, consumer kit, tracing."""

from crm_messaging.consumer import (
    BatchHandler,
    Consumer,
    ConsumerSettings,
    FollowUp,
    Handler,
    InboundMessage,
)
from crm_messaging.errors import DeadLetter, MessagingError, RetryLater
from crm_messaging.inbox import INBOX_MIGRATIONS
from crm_messaging.relay import OutboxRelay
from crm_messaging.sealing import BrokenSeal, SealPolicy
from crm_messaging.topics import ALL_TOPICS, TOPICS, Topic, create_topics, dead_letter_topic
from crm_messaging.tracing import TraceContext, current_trace, new_trace, use_trace
from crm_messaging.vault import VAULT_MIGRATIONS, KeyVault

__all__ = [
    "ALL_TOPICS",
    "INBOX_MIGRATIONS",
    "TOPICS",
    "VAULT_MIGRATIONS",
    "BatchHandler",
    "BrokenSeal",
    "Consumer",
    "ConsumerSettings",
    "DeadLetter",
    "FollowUp",
    "Handler",
    "InboundMessage",
    "KeyVault",
    "MessagingError",
    "OutboxRelay",
    "RetryLater",
    "SealPolicy",
    "Topic",
    "TraceContext",
    "create_topics",
    "current_trace",
    "dead_letter_topic",
    "new_trace",
    "use_trace",
]
