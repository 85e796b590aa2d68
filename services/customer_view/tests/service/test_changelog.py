"""The changelog crm.customer-view.v1: each real change of a record, published through the
view's outbox, keyed by customer, masked; nothing for a duplicate or a no-op event."""

import itertools
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from view_world import attributed, erased, merged, order, publish, survey, trait, visit

from crm.common.v1.envelope_pb2 import Envelope
from crm.customer_view.v1.customer_view_pb2 import CustomerRecordChanged
from crm.profiles.v1 import profiles_pb2 as profiles
from crm_contracts import decode_envelope, unpack_payload
from crm_customer_view.settings import CustomerViewSettings
from crm_devstack.testing import eventually, read_topic
from crm_messaging import KeyVault
from crm_messaging.topics import CUSTOMER_VIEW

_PHONES = itertools.count(1)


class Person:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.id = f"cv-{tag}"
        self.email = f"zq{tag}@pii.example.com"
        self.phone = f"+1415557{next(_PHONES):04d}"
        self.first_name = f"Zqfirst{tag}"
        self.last_name = f"Zqlast{tag}"
        self.comment = f"zqcomment {tag}"

    @property
    def pii(self) -> list[str]:
        return [self.email, self.phone, self.first_name, self.last_name, self.comment]


class Changelog:
    """Where the changes are: the broker, and the vault whose keys open them."""

    def __init__(self, bootstrap: str, vault: KeyVault) -> None:
        self.bootstrap, self.vault = bootstrap, vault


@pytest.fixture
def changelog(kafka_bootstrap: str, vault: KeyVault) -> Changelog:
    return Changelog(kafka_bootstrap, vault)


async def changes_of(bootstrap: Changelog, customer_id: str,
                     at_least: int = 1) -> list[tuple[Envelope, CustomerRecordChanged]]:
    """The customer's changes on the topic, in stream order; waits for ``at_least``."""
    found: list[tuple[Envelope, CustomerRecordChanged]] = []

    async def enough() -> bool:
        found[:] = await _changes(bootstrap, customer_id)
        return len(found) >= at_least

    await eventually(enough, within=30)
    return found


async def _changes(changelog: Changelog,
                   customer_id: str) -> list[tuple[Envelope, CustomerRecordChanged]]:
    records = await read_topic(changelog.bootstrap, CUSTOMER_VIEW.name)
    sealed = [decode_envelope(r.value) for r in records if r.key == customer_id.encode()]
    assert all(e.sealed_by == f"customer:{customer_id}" for e in sealed)
    mine = []
    for envelope in await changelog.vault.open(sealed):
        if isinstance(envelope, Envelope):
            message = unpack_payload(envelope)
            assert isinstance(message, CustomerRecordChanged)
            mine.append((envelope, message))
    return sorted(mine, key=lambda pair: pair[0].stream_version)


async def test_each_change_of_a_record_is_published_with_the_fields_that_changed(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    changelog: Changelog,
) -> None:
    ada = Person()
    topic = settings.profiles_topic
    await publish(producer, topic, ada.id, *attributed(ada.id, visit(ada.email, ada.phone, 0)))
    await eventually(lambda: _visited(changelog, ada.id))
    before = await _changes(changelog, ada.id)

    await publish(producer, topic, ada.id, *attributed(ada.id, order(ada.email, 5, "30.00"))[-1:])
    after = await changes_of(changelog, ada.id, len(before) + 1)

    envelope, last = after[-1]
    assert [e.stream_version for e, _ in after] == list(range(1, len(after) + 1))
    assert envelope.event_type == "crm.customer_view.v1.CustomerRecordChanged"
    assert envelope.producer == "customer_view" and envelope.customer_key == ada.id
    assert {"orders", "channels", "freshness", "rfm", "clv"} <= set(last.changed)
    assert "traits" not in last.changed and "consent" not in last.changed
    assert last.record.orders.lifetime_revenue.amount == "30.00"
    assert last.record.channels["web"].interactions == 2
    assert last.version == last.record.freshness.version
    assert len(after) == len(before) + 1
    assert set(before[0][1].changed) >= {"identifiers", "channels", "orders", "freshness"}


async def test_a_redelivered_or_no_op_event_publishes_nothing(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    changelog: Changelog,
) -> None:
    ada = Person()
    topic = settings.profiles_topic
    sent = await publish(producer, topic, ada.id, *attributed(ada.id, visit(ada.email,
                                                                            ada.phone, 0)))
    await eventually(lambda: _visited(changelog, ada.id))
    before = await _changes(changelog, ada.id)

    for envelope in sent:  # redelivered, as Kafka may
        await producer.send_and_wait(topic, envelope.SerializeToString(), key=ada.id.encode())
    await publish(producer, topic, ada.id,
                  profiles.MergeBlocked(customer_ids=[ada.id, "someone"], reason="rule"),
                  profiles.TouchpointsErased(customer_id=ada.id, receipt_id="r",
                                             touchpoint_event_ids=["tp"]))
    # A real change after them on the same partition: once it is out, they were consumed.
    await publish(producer, topic, ada.id, trait(ada.id, "city", "Lisbon"))
    await eventually(lambda: _has_trait(changelog, ada.id, "city"))
    after = await _changes(changelog, ada.id)

    assert len(after) == len(before) + 1
    assert list(after[-1][1].changed) == ["freshness", "traits"]
    assert after[-1][1].record.traits["city"].value == "Lisbon"


async def test_no_name_email_phone_or_comment_reaches_the_topic(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    changelog: Changelog,
) -> None:
    ada = Person()
    topic = settings.profiles_topic
    await publish(producer, topic, ada.id,
                  *attributed(ada.id, visit(ada.email, ada.phone, 0, ada.first_name)),
                  *attributed(ada.id, survey(ada.email, 1, ada.comment)),
                  trait(ada.id, "last_name", ada.last_name))
    await eventually(lambda: _has_trait(changelog, ada.id, "last_name"))
    changes = await _changes(changelog, ada.id)
    payloads = b"".join(e.SerializeToString() for e, _ in changes)
    last = changes[-1][1].record

    assert [p for p in ada.pii if p.encode() in payloads] == []
    assert last.identifiers["email"].values[0].value.startswith("z***@")
    assert last.traits["first_name"].value == "Z***"
    assert last.traits["last_name"].value == "Z***"


async def test_merges_and_erasures_are_changes_too(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    changelog: Changelog,
) -> None:
    keep, away = Person(), Person()
    topic = settings.profiles_topic
    await publish(producer, topic, away.id, *attributed(away.id, visit(away.email,
                                                                       away.phone, 0)))
    await changes_of(changelog, away.id)
    await publish(producer, topic, keep.id, *attributed(keep.id, visit(keep.email,
                                                                       keep.phone, 1)),
                  merged(keep.id, away.id), erased(keep.id))

    async def erased_out() -> bool:
        changes = await _changes(changelog, keep.id)
        return bool(changes) and changes[-1][1].erased

    await eventually(erased_out, within=30)
    away_changes = await changes_of(changelog, away.id, 2)
    _, last_keep = (await _changes(changelog, keep.id))[-1]
    # The lineage is recomputed as a whole; the merged-away id's redirect stays the same.
    await publish(producer, topic, keep.id, *attributed(keep.id, visit("", keep.phone, 2))[-1:])
    await eventually(lambda: _interactions(changelog, keep.id, 3))

    assert away_changes[-1][1].merged_into == keep.id
    assert "merged_into" in away_changes[-1][1].changed
    assert not away_changes[-1][1].HasField("record")
    assert last_keep.erased and last_keep.record.erased
    assert {"erased", "identifiers"} <= set(last_keep.changed)
    assert dict(last_keep.record.identifiers) == {}
    assert last_keep.record.channels["web"].interactions == 2
    assert away.id in last_keep.record.merged_ids
    assert len(await _changes(changelog, away.id)) == len(away_changes)


async def _visited(bootstrap: Changelog, customer_id: str) -> bool:
    """The change that shows the visit is out: the attribution comes last in its batch, so
    every change of the batch is out."""
    changes = await _changes(bootstrap, customer_id)
    return bool(changes) and "web" in changes[-1][1].record.channels


async def _has_trait(bootstrap: Changelog, customer_id: str, name: str) -> bool:
    changes = await _changes(bootstrap, customer_id)
    return bool(changes) and name in changes[-1][1].record.traits


async def _interactions(bootstrap: Changelog, customer_id: str, count: int) -> bool:
    changes = await _changes(bootstrap, customer_id)
    return bool(changes) and changes[-1][1].record.channels["web"].interactions == count
