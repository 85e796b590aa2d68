"""The key vault: keys issued once, destroyed for good."""

import asyncio
import uuid

from sqlalchemy import text

from crm.common.v1.envelope_pb2 import Envelope
from crm_messaging import KeyVault
from crm_messaging.sealing import KeyDestroyed, seal


def ids(n: int) -> list[str]:
    run = uuid.uuid4().hex
    return [f"test:{run}:{i}" for i in range(n)]


async def test_a_key_is_issued_once_and_found_again(vault: KeyVault) -> None:
    keys = ids(3)

    first = await vault.issue(keys)
    again = await vault.issue(keys[:2])

    assert set(first) == set(keys)
    assert all(secret is not None and len(secret) == 32 for secret in first.values())
    assert len(set(first.values())) == 3
    assert again == {k: first[k] for k in keys[:2]}
    assert await vault.secrets([*keys, "test:never-issued"]) == first


async def test_concurrent_issuers_agree_on_each_key(vault: KeyVault) -> None:
    keys = ids(50)

    answers = await asyncio.gather(*(vault.issue(keys) for _ in range(5)))

    assert all(answer == answers[0] for answer in answers)


async def test_a_key_another_issuer_commits_while_the_issue_waits_on_it_is_found(
    vault: KeyVault,
) -> None:
    # The other issuer's row is not committed when the issue begins: its insert waits on
    # the row, then skips it, and its own read (as the statement began) cannot see it.
    [key] = ids(1)
    async with vault.engine.connect() as other:
        await other.execute(text("INSERT INTO data_keys (key_id, secret) VALUES (:k, :s)"),
                            {"k": key, "s": b"s" * 32})
        issuing = asyncio.create_task(vault.issue([key]))
        await asyncio.sleep(0.3)
        assert not issuing.done()  # waiting on the other's row
        await other.commit()

    assert await asyncio.wait_for(issuing, 10) == {key: b"s" * 32}


async def test_a_destroyed_key_is_gone_for_good_and_never_issued_again(
    vault: KeyVault,
) -> None:
    keys = ids(3)
    issued = await vault.issue(keys[:2])

    destroyed = await vault.destroy([keys[0], keys[2]])  # keys[2] was never issued
    again = await vault.destroy([keys[0], keys[2]])

    assert (destroyed, again) == (2, 0)
    assert await vault.secrets(keys) == {keys[0]: None, keys[1]: issued[keys[1]],
                                         keys[2]: None}
    assert await vault.issue(keys) == {keys[0]: None, keys[1]: issued[keys[1]],
                                       keys[2]: None}


async def test_envelopes_open_with_their_keys_unless_destroyed(vault: KeyVault) -> None:
    live, gone = ids(2)
    secrets = await vault.issue([live, gone])
    envelopes = []
    for key_id in (live, gone):
        event_id = str(uuid.uuid4())
        envelopes.append(Envelope(event_id=event_id, sealed_by=key_id, payload=seal(
            key_id.encode(), event_id=event_id, secret=secrets[key_id] or b"")))
    envelopes.append(Envelope(event_id=str(uuid.uuid4()), payload=b"clear"))
    await vault.destroy([gone])

    opened = await vault.open(envelopes)

    assert [e.payload if isinstance(e, Envelope) else type(e) for e in opened] == [
        live.encode(), KeyDestroyed, b"clear"]
