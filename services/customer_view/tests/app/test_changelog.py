"""The changelog event: the record as a caller without the PII scope reads it, keyed and
streamed by customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crm.customer_view.v1 import customer_view_pb2 as wire
from crm_customer_view.app.changelog import (
    changelog_appends,
    masked_record,
    record_changed,
    redacted,
)
from crm_customer_view.domain import (
    ConsentFact,
    CustomerRecord,
    ErasedValues,
    EventMeta,
    Fact,
    Identifier,
    IdentifierFact,
    ProjectionConfig,
    RecordChange,
    Redirect,
    Touchpoint,
    TouchpointFact,
    TraitFact,
    record_change,
    record_of,
)
from crm_customer_view.domain.values import (
    Money,
    OrderProperties,
    SurveyResponseProperties,
)
from crm_eventstore import EventMetadata

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
AT = datetime(2024, 6, 1, tzinfo=UTC)
PII = ["ada.lovelace@example.com", "+14155552671", "Augusta", "Lovelace", "loud neighbour"]
CONFIG = ProjectionConfig(exchange_rates={"USD": Decimal("0.90")})


def meta(n: int) -> EventMeta:
    return EventMeta(f"ev-{n:03d}", n, T0 + timedelta(minutes=n))


def ada() -> list[Fact]:
    email, phone = Identifier("email", PII[0]), Identifier("phone", PII[1])
    number = Identifier("customer_number", "C-1001")
    order = OrderProperties("o-1", Money("120.00", "EUR"))
    foreign = OrderProperties("o-2", Money("10.00", "JPY"))
    survey = SurveyResponseProperties(nps=9, comment=PII[4])
    return [
        IdentifierFact("c1", email, meta(1)), IdentifierFact("c1", phone, meta(2)),
        IdentifierFact("c1", number, meta(3)),
        TraitFact("c1", "first_name", PII[2], "web", T0, meta(4)),
        TraitFact("c1", "last_name", PII[3], "back_office", T0, meta(5)),
        TraitFact("c1", "city", "London", "web", T0, meta(6)),
        ConsentFact("c1", "email", "marketing", "granted", "tp-x", T0, meta(7)),
        TouchpointFact("c1", Touchpoint("tp-1", "web", "order", T0, (email,), (), order),
                       meta(8)),
        TouchpointFact("c1", Touchpoint("tp-2", "web", "order", T0 + timedelta(days=1),
                                        (), (), foreign), meta(9)),
        TouchpointFact("c1", Touchpoint("tp-3", "email", "survey_response",
                                        T0 + timedelta(days=2), (email,),
                                        (("first_name", PII[2]),), survey), meta(10)),
    ]


def record() -> CustomerRecord:
    result = record_of("c1", ada(), CONFIG)
    assert isinstance(result, CustomerRecord)
    return result


def test_the_changelog_record_holds_no_name_email_phone_or_free_text() -> None:
    change = record_change(None, record())
    assert change is not None
    payload = record_changed(change, AT).SerializeToString()
    assert [p for p in PII if p.encode() in payload] == []


def test_the_changelog_record_shows_what_the_api_shows_without_the_pii_scope() -> None:
    full = record()
    api = full.to_json(mask_pii=True)
    message = masked_record(full)

    identifiers = {kind: [v.value for v in seen.values]
                   for kind, seen in message.identifiers.items()}
    assert identifiers == {kind: [v["value"] for v in values]  # type: ignore[index]
                           for kind, values in api["identifiers"].items()}  # type: ignore[union-attr]
    assert {name: t.value for name, t in message.traits.items()} == {
        name: t["value"] for name, t in api["traits"].items()}  # type: ignore[index,union-attr]
    assert identifiers["customer_number"] == ["C-1001"]
    assert message.traits["city"].value == "London"
    assert message.channels["web"].interactions == 2 and message.channels["email"].interactions == 1
    assert message.orders.lifetime_revenue.amount == "120.00"
    assert message.orders.lifetime_revenue.currency == "EUR"
    assert [u.amount.currency for u in message.orders.unconverted] == ["JPY"]
    assert message.rfm.score == full.rfm.code  # type: ignore[union-attr]
    assert message.clv.value.amount == str(full.clv.value)  # type: ignore[union-attr]
    assert message.satisfaction.nps.latest == 9 and message.satisfaction.nps.responses == 1
    assert not message.satisfaction.csat.HasField("latest")
    assert [(c.channel, c.purpose, c.state) for c in message.consent] == [
        ("email", "marketing", wire.CONSENT_STATE_GRANTED)]
    assert message.freshness.version == full.freshness.version


def test_a_change_event_names_the_changed_fields_the_version_and_the_time() -> None:
    change = RecordChange(record(), ("channels", "orders"))
    message = record_changed(change, AT)
    assert message.customer_id == "c1" and list(message.changed) == ["channels", "orders"]
    assert message.version == record().freshness.version and not message.erased
    assert message.occurred_at.ToDatetime(tzinfo=UTC) == AT
    assert message.merged_into == "" and message.HasField("record")


def test_a_merged_away_id_says_where_it_lives_and_carries_no_record() -> None:
    message = record_changed(RecordChange(Redirect("c2", "c1"), ("merged_into",)), AT)
    assert message.merged_into == "c1" and not message.HasField("record")


def test_each_change_is_published_on_the_customers_stream_keyed_by_the_customer() -> None:
    changes = [RecordChange(record(), ("orders",)), RecordChange(Redirect("c2", "c1"),
                                                                 ("merged_into",))]
    appends = changelog_appends(changes, AT, lambda c: EventMetadata(causation_id=f"by-{c}"))
    assert [a.stream_id for a in appends] == ["customer-view-c1", "customer-view-c2"]
    events = [event for append in appends for event in append.events]
    assert [e.topic for e in events] == ["crm.customer-view.v1"] * 2
    assert [e.customer_key for e in events] == ["c1", "c2"]
    assert [e.metadata.causation_id for e in events] == ["by-c1", "by-c2"]
    assert {e.event_type for e in events} == {"crm.customer_view.v1.CustomerRecordChanged"}


def test_redaction_takes_the_erased_identifiers_and_traits_out_of_a_published_change() -> None:
    change = record_change(None, record())
    assert change is not None
    payload = record_changed(change, AT).SerializeToString()
    taken = ErasedValues(frozenset({Identifier("email", PII[0]), Identifier("phone", PII[1])}),
                         frozenset({"ev-005", "tp-3"}))  # last_name, and the survey's first_name

    result = redacted(payload, taken)

    assert result is not None
    message = wire.CustomerRecordChanged.FromString(result)
    assert sorted(message.record.identifiers) == ["customer_number"]
    assert sorted(message.record.traits) == ["city"]
    assert message.record.orders == record_changed(change, AT).record.orders
    assert redacted(result, taken) is None  # nothing left to take
    assert redacted(payload, ErasedValues(frozenset({Identifier("email", "x@y.z")}))) is None
