"""Postgres event store, transactional outbox and inbox shared by every service."""

from crm_eventstore.db import autocommit, create_engine
from crm_eventstore.driver import driver_connection
from crm_eventstore.errors import DuplicateEvent, EventStoreError, ReadTimeout, WrongExpectedVersion
from crm_eventstore.events import (
    ANY,
    NO_STREAM,
    EventMetadata,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
)
from crm_eventstore.group_commit import GroupCommitter
from crm_eventstore.migrations import MigrationSet, migrate
from crm_eventstore.outbox import Outbox, PendingEvent
from crm_eventstore.statement_queue import StatementQueue
from crm_eventstore.store import AppendedEvent, EventStore, StreamAppend, UnitOfWork

EVENT_STORE_MIGRATIONS = MigrationSet("eventstore", "crm_eventstore")

__all__ = [
    "ANY",
    "EVENT_STORE_MIGRATIONS",
    "NO_STREAM",
    "AppendedEvent",
    "DuplicateEvent",
    "EventMetadata",
    "EventStore",
    "EventStoreError",
    "ExpectedVersion",
    "GroupCommitter",
    "MigrationSet",
    "NewEvent",
    "Outbox",
    "PendingEvent",
    "ReadTimeout",
    "RecordedEvent",
    "StatementQueue",
    "StreamAppend",
    "UnitOfWork",
    "WrongExpectedVersion",
    "autocommit",
    "create_engine",
    "driver_connection",
    "migrate",
]
