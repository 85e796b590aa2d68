"""What the lifespan makes and every route, worker and check receives."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_eventstore import autocommit
from crm_messaging import KeyVault
from crm_servicekit.settings import ServiceSettings

if TYPE_CHECKING:
    from crm_servicekit.apikeys.store import ApiKeyStore

__all__ = ["ServiceContext", "get_context"]


@dataclass(frozen=True)
class ServiceContext:
    """The running service's resources, made in the app's lifespan."""

    settings: ServiceSettings
    engine: AsyncEngine
    producer: AIOKafkaProducer
    api_keys: ApiKeyStore
    # The data keys that seal personal data on the topics (crm_messaging.sealing).
    vault: KeyVault

    @cached_property
    def reads(self) -> AsyncEngine:
        """``engine`` for reads: each query one round trip (``crm_eventstore.autocommit``)."""
        return autocommit(self.engine)


def get_context(request: Request) -> ServiceContext:
    """FastAPI dependency: the :class:`ServiceContext` of the app serving ``request``."""
    ctx = getattr(request.app.state, "ctx", None)
    if not isinstance(ctx, ServiceContext):
        raise RuntimeError("the service context is not set: was the app's lifespan run?")
    return ctx
