"""A service's definition and its command line: ``python -m crm_<service> serve|migrate``.

Every service declares the same things (name, settings, migrations, app) and is
run the same way by ``make run``, docker compose and the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from fastapi import FastAPI

from crm_eventstore import EVENT_STORE_MIGRATIONS, MigrationSet, create_engine, migrate
from crm_messaging import INBOX_MIGRATIONS, VAULT_MIGRATIONS
from crm_servicekit.apikeys.store import API_KEYS_MIGRATIONS
from crm_servicekit.logging import configure_logging
from crm_servicekit.runner import serve, serve_processes
from crm_servicekit.settings import ServiceSettings

__all__ = ["ServiceDefinition", "run_service"]

SHARED_MIGRATIONS: tuple[MigrationSet, ...] = (
    EVENT_STORE_MIGRATIONS, INBOX_MIGRATIONS, API_KEYS_MIGRATIONS,
)


@dataclass(frozen=True)
class ServiceDefinition:
    """What a service is: its settings type, its own migrations and how to build its app."""

    name: str
    settings_type: type[ServiceSettings]
    build_app: Callable[[ServiceSettings], FastAPI]
    migrations: Sequence[MigrationSet] = field(default=())

    def all_migrations(self) -> list[MigrationSet]:
        """The shared mechanisms' tables first, then the service's own."""
        return [*SHARED_MIGRATIONS, *self.migrations]

    def load_settings(self) -> ServiceSettings:
        """Settings from the environment (the settings type supplies the defaults)."""
        return self.settings_type()  # type: ignore[call-arg]  # required fields come from env

    async def migrate(self, settings: ServiceSettings) -> list[str]:
        """Apply every pending migration to the service's schema and the key vault's."""
        engine = create_engine(settings.database_url, settings.db_schema, pool_size=1)
        vault = create_engine(settings.vault_database_url, settings.vault_schema, pool_size=1)
        try:
            applied = await migrate(engine, settings.db_schema, self.all_migrations())
            return applied + await migrate(vault, settings.vault_schema, [VAULT_MIGRATIONS])
        finally:
            await engine.dispose()
            await vault.dispose()


def run_service(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> int:
    """The command line of a service: ``serve`` (default) or ``migrate``."""
    parser = argparse.ArgumentParser(prog=f"python -m crm_{definition.name}")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate"))
    args = parser.parse_args(argv)
    settings = definition.load_settings()
    configure_logging(settings.service_name, settings.log_level)
    if args.command == "migrate":
        applied = asyncio.run(definition.migrate(settings))
        print(f"{definition.name}: {len(applied)} migration(s) applied to schema "
              f"{settings.db_schema}: {', '.join(applied) or 'none pending'}", file=sys.stderr)
        return 0
    if settings.http_workers > 1 or settings.background_processes > 1:
        serve_processes(partial(app_of, f"crm_{definition.name}.bootstrap:SERVICE"), settings)
    else:
        serve(definition.build_app(settings), settings)
    return 0


def app_of(definition_path: str) -> FastAPI:
    """The app of the service whose definition is at ``definition_path``
    (``module:attribute``), built with settings from the environment: how each HTTP
    worker process, which cannot receive an app, builds its own."""
    module_name, _, attribute = definition_path.partition(":")
    definition = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(definition, ServiceDefinition):
        raise TypeError(f"{definition_path} is not a ServiceDefinition")
    settings = definition.load_settings()
    configure_logging(settings.service_name, settings.log_level)
    return definition.build_app(settings)
