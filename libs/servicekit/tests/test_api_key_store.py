import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_servicekit.apikeys import (
    ALL_SCOPES,
    ApiKeyConflictError,
    ApiKeyStore,
    InvalidApiKeyError,
    UnknownScopeError,
    generate_key,
    parse_key,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_generated_keys_have_the_crm_prefix_a_12_character_id_and_a_long_secret() -> None:
    plaintext = generate_key()
    key_id, secret = parse_key(plaintext)

    assert re.fullmatch(r"crm_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}", plaintext)
    assert plaintext == f"crm_{key_id}_{secret}"
    assert generate_key() != plaintext


@pytest.mark.parametrize("malformed", ["", "crm_", "abc", "crm_ab_0123456789abcdef",
                                       "crm_abcdefghijkl_short", "xyz_abcdefghijkl_" + "s" * 40])
def test_parse_rejects_strings_that_are_not_shaped_like_keys(malformed: str) -> None:
    with pytest.raises(InvalidApiKeyError):
        parse_key(malformed)


async def test_a_created_key_authenticates_with_its_scopes(store: ApiKeyStore) -> None:
    key, plaintext = await store.create("call center", ["touchpoints:write", "touchpoints:read"])

    found = await store.authenticate(plaintext)

    assert found is not None
    assert found.key_id == key.key_id
    assert found.name == "call center"
    assert found.scopes == {"touchpoints:write", "touchpoints:read"}
    assert found.channels is None and found.active
    assert found.has_scope("touchpoints:write") and not found.has_scope("profiles:read")


async def test_stores_only_a_hash_of_the_secret(store: ApiKeyStore, engine: AsyncEngine) -> None:
    _, plaintext = await store.create("web", ["touchpoints:write"])
    _, secret = parse_key(plaintext)

    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM api_keys"))).all()

    stored = " ".join(str(value) for row in rows for value in row)
    assert plaintext not in stored
    assert secret not in stored
    assert "sha256:" in stored


async def test_wrong_secret_unknown_id_and_malformed_keys_do_not_authenticate(
    store: ApiKeyStore,
) -> None:
    _, plaintext = await store.create("web", ["touchpoints:write"])

    assert await store.authenticate(plaintext[:-4] + "AAAA") is None
    assert await store.authenticate(f"crm_unknownid123_{'x' * 43}") is None
    assert await store.authenticate("not a key") is None
    assert await store.authenticate(plaintext) is not None


async def test_a_revoked_key_no_longer_authenticates(store: ApiKeyStore) -> None:
    key, plaintext = await store.create("web", ["touchpoints:write"])

    assert await store.revoke(key.key_id) is True
    assert await store.authenticate(plaintext) is None
    assert await store.revoke(key.key_id) is True, "revoking twice is harmless"
    assert await store.revoke("doesnotexist") is False
    revoked = await store.get(key.key_id)
    assert revoked is not None and revoked.revoked_at is not None


async def test_lists_every_key_oldest_first_with_its_state(store: ApiKeyStore) -> None:
    first, _ = await store.create("first", ["profiles:read"])
    second, _ = await store.create("second", ["segments:write"], channels=["web", "email"])
    await store.revoke(first.key_id)

    listed = await store.list()

    assert [k.key_id for k in listed] == [first.key_id, second.key_id]
    assert listed[0].revoked_at is not None and listed[1].active
    assert listed[1].channels == {"web", "email"}


async def test_unknown_scopes_are_rejected_when_a_key_is_created(store: ApiKeyStore) -> None:
    with pytest.raises(UnknownScopeError, match="touchpoint:write"):
        await store.create("typo", ["touchpoint:write"])
    with pytest.raises(ValueError, match="at least one scope"):
        await store.create("none", [])
    assert await store.list() == []


def test_admin_implies_every_scope() -> None:
    from crm_servicekit.apikeys.scopes import grants

    assert all(grants({"admin"}, scope) for scope in ALL_SCOPES)
    assert not grants({"customers:read"}, "customers:read:pii")


async def test_a_key_restricted_to_channels_allows_only_those(store: ApiKeyStore) -> None:
    _, plaintext = await store.create("store kiosk", ["touchpoints:write"], channels=["store"])

    key = await store.authenticate(plaintext)

    assert key is not None
    assert key.allows_channel("store") and not key.allows_channel("web")


async def test_register_is_idempotent_and_updates_name_and_scopes(store: ApiKeyStore) -> None:
    plaintext = "crm_bootstrap_local-dev-key-0123456789"
    await store.register(plaintext, "bootstrap", ["touchpoints:write"])
    again = await store.register(plaintext, "bootstrap (all)", sorted(ALL_SCOPES))

    assert again.key_id == "bootstrap"
    assert again.scopes == ALL_SCOPES and again.name == "bootstrap (all)"
    assert len(await store.list()) == 1
    assert await store.authenticate(plaintext) is not None


async def test_register_refuses_a_taken_key_id_with_another_secret(store: ApiKeyStore) -> None:
    await store.register("crm_bootstrap_first-secret-0123456789", "one", ["admin"])

    with pytest.raises(ApiKeyConflictError):
        await store.register("crm_bootstrap_other-secret-0123456789", "two", ["admin"])
    assert await store.authenticate("crm_bootstrap_other-secret-0123456789") is None


async def test_authentication_is_served_from_the_cache_until_the_ttl_passes(
    engine: AsyncEngine, store: ApiKeyStore,
) -> None:
    clock = FakeClock()
    cached = ApiKeyStore(engine, cache_seconds=5.0, clock=clock)
    key, plaintext = await store.create("web", ["touchpoints:write"])
    assert await cached.authenticate(plaintext) is not None

    await store.revoke(key.key_id)  # revoked by another process
    clock.now += 4.9
    assert await cached.authenticate(plaintext) is not None, "still cached within the TTL"
    clock.now += 0.2
    assert await cached.authenticate(plaintext) is None, "revocation seen after the TTL"


async def test_revoking_through_the_same_store_takes_effect_at_once(engine: AsyncEngine) -> None:
    cached = ApiKeyStore(engine, cache_seconds=60.0)
    key, plaintext = await cached.create("web", ["touchpoints:write"])
    assert await cached.authenticate(plaintext) is not None

    await cached.revoke(key.key_id)

    assert await cached.authenticate(plaintext) is None


async def test_records_when_a_key_was_last_used(store: ApiKeyStore) -> None:
    key, plaintext = await store.create("web", ["touchpoints:write"])
    assert key.last_used_at is None

    await store.authenticate(plaintext)
    await store.settle()

    used = await store.get(key.key_id)
    assert used is not None and used.last_used_at is not None


async def test_a_request_does_not_wait_for_the_last_used_update(
    engine: AsyncEngine, store: ApiKeyStore,
) -> None:
    key, plaintext = await store.create("web", ["touchpoints:write"])
    async with engine.begin() as other:  # another process updating the row, holding its lock
        await other.execute(text("SELECT 1 FROM api_keys WHERE key_id = :k FOR UPDATE"),
                            {"k": key.key_id})

        found = await asyncio.wait_for(store.authenticate(plaintext), timeout=5)

        assert found is not None
        await asyncio.sleep(0.2)
        assert (await store.get(key.key_id)).last_used_at is None  # type: ignore[union-attr]
    await store.settle()
    assert (await store.get(key.key_id)).last_used_at is not None  # type: ignore[union-attr]


class CountingStore(ApiKeyStore):
    """Counts the loads from Postgres, each slowed down so that requests pile up."""

    loads = 0

    async def _load(self, key_id: str) -> Any:
        self.loads += 1
        await asyncio.sleep(0.05)
        return await super()._load(key_id)


async def test_requests_arriving_when_the_entry_expires_wait_for_one_load(
    engine: AsyncEngine, store: ApiKeyStore,
) -> None:
    clock = FakeClock()
    counting = CountingStore(engine, cache_seconds=5.0, clock=clock)
    _, plaintext = await store.create("web", ["touchpoints:write"])

    first = await asyncio.gather(*(counting.authenticate(plaintext) for _ in range(32)))
    clock.now += 6
    expired = await asyncio.gather(*(counting.authenticate(plaintext) for _ in range(32)))

    assert all(k is not None for k in [*first, *expired])
    assert counting.loads == 2
    await counting.settle()


async def test_a_revocation_during_a_load_is_not_undone_by_it(
    engine: AsyncEngine, store: ApiKeyStore,
) -> None:
    counting = CountingStore(engine, cache_seconds=60.0)
    key, plaintext = await counting.create("web", ["touchpoints:write"])

    loading = asyncio.ensure_future(counting.authenticate(plaintext))
    await asyncio.sleep(0.01)  # the load has begun, and read nothing yet
    await counting.revoke(key.key_id)
    await loading

    assert await counting.authenticate(plaintext) is None
    await counting.settle()
