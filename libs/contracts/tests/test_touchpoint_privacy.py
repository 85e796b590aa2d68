from google.protobuf.struct_pb2 import Struct

from crm.common.v1.types_pb2 import IDENTIFIER_TYPE_EMAIL, Identifier, Money
from crm.touchpoints.v1 import touchpoints_pb2 as tp
from crm_contracts.privacy import touchpoint_without_pii

EMAIL = "ada.secret@example.com"


def _touchpoint(**properties: object) -> tp.TouchpointRecorded:
    message = tp.TouchpointRecorded(
        event_id="e-1", channel=tp.CHANNEL_WEB, type="order", source_key_id="k-1",
        identifiers=[Identifier(type=IDENTIFIER_TYPE_EMAIL, value=EMAIL)],
        traits={"first_name": "Adalind"}, warnings=[f"identifiers.phone: 'x{EMAIL}' dropped"],
        **properties)  # type: ignore[arg-type]
    message.occurred_at.FromSeconds(1_700_000_000)
    return message


def test_identity_traits_and_warnings_go_and_impersonal_facts_stay() -> None:
    order = tp.OrderProperties(order_id="o-1", amount=Money(amount="10.00", currency="EUR"),
                               items=[tp.OrderItem(sku="sku-1", name="Gift for Adalind",
                                                   quantity=2)])
    scrubbed = touchpoint_without_pii(_touchpoint(order=order))

    assert EMAIL.encode() not in scrubbed.SerializeToString()
    assert b"Adalind" not in scrubbed.SerializeToString()
    assert (scrubbed.event_id, scrubbed.channel, scrubbed.type) == ("e-1", tp.CHANNEL_WEB, "order")
    assert scrubbed.occurred_at.seconds == 1_700_000_000
    assert scrubbed.order.amount.amount == "10.00"
    assert [(i.sku, i.quantity, i.name) for i in scrubbed.order.items] == [("sku-1", 2, "")]


def test_free_text_of_each_kind_goes() -> None:
    generic = Struct()
    generic.update({"note": "Adalind called", "category": "billing", "complaint_event_id": "c"})
    cases = [
        _touchpoint(survey_response=tp.SurveyResponseProperties(nps=9, comment="I am Adalind")),
        _touchpoint(page_view=tp.PageViewProperties(url="https://x/?who=Adalind",
                                                    referrer="r", title="Adalind's page")),
        _touchpoint(generic=tp.GenericProperties(fields=generic)),
    ]
    scrubbed = [touchpoint_without_pii(c) for c in cases]

    assert all(b"Adalind" not in s.SerializeToString() for s in scrubbed)
    assert scrubbed[0].survey_response.nps == 9
    assert scrubbed[1].WhichOneof("properties") == "page_view"
    assert dict(scrubbed[2].generic.fields) == {"category": "billing", "complaint_event_id": "c"}


def test_scrubbing_is_idempotent_and_leaves_the_original_alone() -> None:
    original = _touchpoint(survey_response=tp.SurveyResponseProperties(comment="Adalind"))
    once = touchpoint_without_pii(original)

    assert touchpoint_without_pii(once) == once
    assert original.survey_response.comment == "Adalind"
