"""``python -m crm_servicekit.apikeys``: manage API keys in one or more service schemas.

One command can act on several schemas (``--schema a --schema b``) so that one key
works on several services; the api-keys migrations run on each schema first.
Exit codes: 0 done, 1 failed (e.g. database unreachable, unknown key), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from crm_eventstore.db import create_engine, validate_schema_name
from crm_eventstore.migrations import migrate
from crm_servicekit.apikeys.keys import ApiKey, generate_key, parse_key
from crm_servicekit.apikeys.scopes import ALL_SCOPES, validate_scopes
from crm_servicekit.apikeys.store import API_KEYS_MIGRATIONS, ApiKeyConflictError, ApiKeyStore

__all__ = ["Command", "execute", "main", "main_async", "parse_command"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_DONE = {"create": "created", "register": "registered"}


@dataclass(frozen=True)
class Command:
    """A validated command line."""

    action: str
    database_url: str
    schemas: tuple[str, ...]
    name: str = ""
    scopes: tuple[str, ...] = ()
    channels: tuple[str, ...] | None = None
    key: str = ""
    key_id: str = ""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                        help="postgresql:// URL (default: $DATABASE_URL)")
    common.add_argument("--schema", action="append", dest="schemas", metavar="SCHEMA",
                        help="service schema to act on; repeatable (default: $DB_SCHEMA)")
    parser = argparse.ArgumentParser(prog="python -m crm_servicekit.apikeys",
                                     description="Manage the API keys of CRM services.")
    parser.set_defaults(name="", scopes=None, all_scopes=False, channels=None, key="", key_id="")
    commands = parser.add_subparsers(dest="action", required=True, metavar="COMMAND")
    create = commands.add_parser("create", parents=[common], help="make a new key, print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", dest="scopes", required=True,
                        help=f"repeatable; one of: {', '.join(sorted(ALL_SCOPES))}")
    create.add_argument("--channel", action="append", dest="channels",
                        help="restrict the key to a channel; repeatable (default: all)")
    commands.add_parser("list", parents=[common], help="list keys (never their secrets)")
    revoke = commands.add_parser("revoke", parents=[common], help="revoke a key")
    revoke.add_argument("key_id")
    register = commands.add_parser("register", parents=[common],
                                   help="store a given key (idempotent)")
    register.add_argument("--key", default=os.environ.get("CRM_BOOTSTRAP_API_KEY", ""),
                          help="the plaintext key (default: $CRM_BOOTSTRAP_API_KEY)")
    register.add_argument("--name", required=True)
    scopes = register.add_mutually_exclusive_group(required=True)
    scopes.add_argument("--all-scopes", action="store_true")
    scopes.add_argument("--scope", action="append", dest="scopes")
    return parser


def parse_command(argv: Sequence[str] | None = None) -> Command:
    """Parse and validate ``argv``; bad usage exits with status 2 and a message."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except ValueError as exc:
        parser.error(str(exc))


def _command(args: argparse.Namespace) -> Command:
    if not args.database_url:
        raise ValueError("no database: pass --database-url or set DATABASE_URL")
    schemas = tuple(args.schemas or filter(None, [os.environ.get("DB_SCHEMA")]))
    if not schemas:
        raise ValueError("no schema: pass --schema (repeatable) or set DB_SCHEMA")
    for schema in schemas:
        validate_schema_name(schema)
    scopes = tuple(sorted(ALL_SCOPES)) if args.all_scopes else (
        validate_scopes(args.scopes) if args.scopes is not None else ())
    if args.action == "register":
        if not args.key:
            raise ValueError("no key: pass --key or set CRM_BOOTSTRAP_API_KEY")
        parse_key(args.key)
    channels = tuple(args.channels) if args.channels else None
    return Command(args.action, args.database_url, schemas, args.name, scopes, channels,
                   args.key, args.key_id)


async def execute(command: Command) -> int:
    """Run ``command`` against each of its schemas; returns the exit status."""
    plaintext = generate_key() if command.action == "create" else command.key
    outcomes: list[int] = []
    for schema in command.schemas:
        try:
            outcomes.append(await _in_schema(command, schema, plaintext))
        except (SQLAlchemyError, OSError) as exc:
            _error(f"schema {schema}: cannot use the database: {exc}")
            outcomes.append(EXIT_FAILED)
            break
        except ApiKeyConflictError as exc:
            _error(f"schema {schema}: {exc}")
            outcomes.append(EXIT_FAILED)
    if command.action == "create" and EXIT_OK in outcomes:
        print(plaintext)
        _error("Store this key now: it cannot be shown again.")
    return max(outcomes)


async def _in_schema(command: Command, schema: str, plaintext: str) -> int:
    engine = create_engine(command.database_url, schema, pool_size=1)
    try:
        await migrate(engine, schema, [API_KEYS_MIGRATIONS])
        store = ApiKeyStore(engine, cache_seconds=0)
        if command.action == "list":
            _print_keys(schema, await store.list())
            return EXIT_OK
        if command.action == "revoke":
            return _report_revoke(schema, command.key_id, await store.revoke(command.key_id))
        key = await store.register(plaintext, command.name, command.scopes, command.channels)
        _error(f"schema {schema}: {_DONE[command.action]} key {key.key_id}"
               f" with scopes {', '.join(sorted(key.scopes))}")
        return EXIT_OK
    finally:
        await engine.dispose()


def _report_revoke(schema: str, key_id: str, found: bool) -> int:
    if found:
        _error(f"schema {schema}: revoked key {key_id}")
        return EXIT_OK
    _error(f"schema {schema}: no key {key_id}")
    return EXIT_FAILED


def _print_keys(schema: str, keys: list[ApiKey]) -> None:
    print(f"# schema {schema}: {len(keys)} key(s)")
    for key in keys:
        channels = ",".join(sorted(key.channels)) if key.channels is not None else "*"
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        print("\t".join([key.key_id, key.name, ",".join(sorted(key.scopes)), channels,
                         f"{key.created_at:%Y-%m-%d %H:%M}", state]))


def _error(message: str) -> None:
    print(message, file=sys.stderr)


async def main_async(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run it in the running event loop; returns the exit status."""
    try:
        command = parse_command(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return await execute(command)


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry point; returns the exit status."""
    try:
        command = parse_command(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return asyncio.run(execute(command))
