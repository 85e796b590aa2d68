# protoc --pyi_out quirks, silenced by proto/generate.py (see STUB_QUIRKS).
# mypy: disable-error-code="type-arg"
import datetime

from crm.common.v1 import options_pb2 as _options_pb2
from crm.common.v1 import types_pb2 as _types_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_CALL_CENTER: _ClassVar[Channel]
    CHANNEL_WEB: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
    CHANNEL_STORE: _ClassVar[Channel]
    CHANNEL_MOBILE_APP: _ClassVar[Channel]
    CHANNEL_SMS: _ClassVar[Channel]
    CHANNEL_DIRECT_MAIL: _ClassVar[Channel]
    CHANNEL_SOCIAL: _ClassVar[Channel]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_CALL_CENTER: Channel
CHANNEL_WEB: Channel
CHANNEL_EMAIL: Channel
CHANNEL_STORE: Channel
CHANNEL_MOBILE_APP: Channel
CHANNEL_SMS: Channel
CHANNEL_DIRECT_MAIL: Channel
CHANNEL_SOCIAL: Channel

class TouchpointRecorded(_message.Message):
    __slots__ = ("event_id", "channel", "type", "occurred_at", "received_at", "identifiers", "traits", "source_key_id", "warnings", "order", "refund", "call", "survey_response", "complaint", "page_view", "consent", "generic")
    class TraitsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    TRAITS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    SURVEY_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    COMPLAINT_FIELD_NUMBER: _ClassVar[int]
    PAGE_VIEW_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    GENERIC_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    channel: Channel
    type: str
    occurred_at: _timestamp_pb2.Timestamp
    received_at: _timestamp_pb2.Timestamp
    identifiers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    traits: _containers.ScalarMap[str, str]
    source_key_id: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    order: OrderProperties
    refund: RefundProperties
    call: CallProperties
    survey_response: SurveyResponseProperties
    complaint: ComplaintProperties
    page_view: PageViewProperties
    consent: ConsentProperties
    generic: GenericProperties
    def __init__(self, event_id: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., identifiers: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., traits: _Optional[_Mapping[str, str]] = ..., source_key_id: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ..., order: _Optional[_Union[OrderProperties, _Mapping]] = ..., refund: _Optional[_Union[RefundProperties, _Mapping]] = ..., call: _Optional[_Union[CallProperties, _Mapping]] = ..., survey_response: _Optional[_Union[SurveyResponseProperties, _Mapping]] = ..., complaint: _Optional[_Union[ComplaintProperties, _Mapping]] = ..., page_view: _Optional[_Union[PageViewProperties, _Mapping]] = ..., consent: _Optional[_Union[ConsentProperties, _Mapping]] = ..., generic: _Optional[_Union[GenericProperties, _Mapping]] = ...) -> None: ...

class OrderProperties(_message.Message):
    __slots__ = ("order_id", "amount", "items")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    amount: _types_pb2.Money
    items: _containers.RepeatedCompositeFieldContainer[OrderItem]
    def __init__(self, order_id: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., items: _Optional[_Iterable[_Union[OrderItem, _Mapping]]] = ...) -> None: ...

class OrderItem(_message.Message):
    __slots__ = ("sku", "name", "quantity", "unit_price")
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    name: str
    quantity: int
    unit_price: _types_pb2.Money
    def __init__(self, sku: _Optional[str] = ..., name: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class RefundProperties(_message.Message):
    __slots__ = ("order_id", "amount")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    amount: _types_pb2.Money
    def __init__(self, order_id: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class CallProperties(_message.Message):
    __slots__ = ("duration_seconds", "reason", "outcome", "agent_id", "satisfaction")
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SATISFACTION_FIELD_NUMBER: _ClassVar[int]
    duration_seconds: int
    reason: str
    outcome: str
    agent_id: str
    satisfaction: int
    def __init__(self, duration_seconds: _Optional[int] = ..., reason: _Optional[str] = ..., outcome: _Optional[str] = ..., agent_id: _Optional[str] = ..., satisfaction: _Optional[int] = ...) -> None: ...

class SurveyResponseProperties(_message.Message):
    __slots__ = ("nps", "csat", "comment")
    NPS_FIELD_NUMBER: _ClassVar[int]
    CSAT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    nps: int
    csat: int
    comment: str
    def __init__(self, nps: _Optional[int] = ..., csat: _Optional[int] = ..., comment: _Optional[str] = ...) -> None: ...

class ComplaintProperties(_message.Message):
    __slots__ = ("category", "severity")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    category: str
    severity: str
    def __init__(self, category: _Optional[str] = ..., severity: _Optional[str] = ...) -> None: ...

class PageViewProperties(_message.Message):
    __slots__ = ("url", "referrer", "title")
    URL_FIELD_NUMBER: _ClassVar[int]
    REFERRER_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    url: str
    referrer: str
    title: str
    def __init__(self, url: _Optional[str] = ..., referrer: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class ConsentProperties(_message.Message):
    __slots__ = ("channel", "purpose", "granted")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    channel: str
    purpose: str
    granted: bool
    def __init__(self, channel: _Optional[str] = ..., purpose: _Optional[str] = ..., granted: _Optional[bool] = ...) -> None: ...

class GenericProperties(_message.Message):
    __slots__ = ("fields",)
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    fields: _struct_pb2.Struct
    def __init__(self, fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
