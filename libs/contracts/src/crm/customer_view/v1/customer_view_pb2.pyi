# protoc --pyi_out quirks, silenced by proto/generate.py (see STUB_QUIRKS).
# mypy: disable-error-code="type-arg"
import datetime

from crm.common.v1 import options_pb2 as _options_pb2
from crm.common.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConsentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_STATE_UNSPECIFIED: _ClassVar[ConsentState]
    CONSENT_STATE_GRANTED: _ClassVar[ConsentState]
    CONSENT_STATE_DENIED: _ClassVar[ConsentState]
CONSENT_STATE_UNSPECIFIED: ConsentState
CONSENT_STATE_GRANTED: ConsentState
CONSENT_STATE_DENIED: ConsentState

class CustomerRecordChanged(_message.Message):
    __slots__ = ("customer_id", "version", "changed", "record", "merged_into", "erased", "occurred_at")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_FIELD_NUMBER: _ClassVar[int]
    ERASED_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    version: int
    changed: _containers.RepeatedScalarFieldContainer[str]
    record: CustomerRecord
    merged_into: str
    erased: bool
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., version: _Optional[int] = ..., changed: _Optional[_Iterable[str]] = ..., record: _Optional[_Union[CustomerRecord, _Mapping]] = ..., merged_into: _Optional[str] = ..., erased: _Optional[bool] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CustomerRecord(_message.Message):
    __slots__ = ("customer_id", "merged_ids", "erased", "identifiers", "traits", "consent", "channels", "orders", "rfm", "clv", "satisfaction", "open_complaints", "segments", "recent_campaign_contacts", "freshness")
    class IdentifiersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Identifiers
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Identifiers, _Mapping]] = ...) -> None: ...
    class TraitsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Trait
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Trait, _Mapping]] = ...) -> None: ...
    class ChannelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ChannelSummary
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ChannelSummary, _Mapping]] = ...) -> None: ...
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_IDS_FIELD_NUMBER: _ClassVar[int]
    ERASED_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    TRAITS_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    RFM_FIELD_NUMBER: _ClassVar[int]
    CLV_FIELD_NUMBER: _ClassVar[int]
    SATISFACTION_FIELD_NUMBER: _ClassVar[int]
    OPEN_COMPLAINTS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    RECENT_CAMPAIGN_CONTACTS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    merged_ids: _containers.RepeatedScalarFieldContainer[str]
    erased: bool
    identifiers: _containers.MessageMap[str, Identifiers]
    traits: _containers.MessageMap[str, Trait]
    consent: _containers.RepeatedCompositeFieldContainer[Consent]
    channels: _containers.MessageMap[str, ChannelSummary]
    orders: OrderMetrics
    rfm: RfmScores
    clv: ClvEstimate
    satisfaction: Satisfaction
    open_complaints: _containers.RepeatedCompositeFieldContainer[OpenComplaint]
    segments: _containers.RepeatedScalarFieldContainer[str]
    recent_campaign_contacts: _containers.RepeatedScalarFieldContainer[str]
    freshness: Freshness
    def __init__(self, customer_id: _Optional[str] = ..., merged_ids: _Optional[_Iterable[str]] = ..., erased: _Optional[bool] = ..., identifiers: _Optional[_Mapping[str, Identifiers]] = ..., traits: _Optional[_Mapping[str, Trait]] = ..., consent: _Optional[_Iterable[_Union[Consent, _Mapping]]] = ..., channels: _Optional[_Mapping[str, ChannelSummary]] = ..., orders: _Optional[_Union[OrderMetrics, _Mapping]] = ..., rfm: _Optional[_Union[RfmScores, _Mapping]] = ..., clv: _Optional[_Union[ClvEstimate, _Mapping]] = ..., satisfaction: _Optional[_Union[Satisfaction, _Mapping]] = ..., open_complaints: _Optional[_Iterable[_Union[OpenComplaint, _Mapping]]] = ..., segments: _Optional[_Iterable[str]] = ..., recent_campaign_contacts: _Optional[_Iterable[str]] = ..., freshness: _Optional[_Union[Freshness, _Mapping]] = ...) -> None: ...

class Identifiers(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[IdentifierSeen]
    def __init__(self, values: _Optional[_Iterable[_Union[IdentifierSeen, _Mapping]]] = ...) -> None: ...

class IdentifierSeen(_message.Message):
    __slots__ = ("value", "first_seen", "last_seen", "shared")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    value: str
    first_seen: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    shared: bool
    def __init__(self, value: _Optional[str] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., shared: _Optional[bool] = ...) -> None: ...

class Trait(_message.Message):
    __slots__ = ("value", "source", "occurred_at", "event_id")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    value: str
    source: str
    occurred_at: _timestamp_pb2.Timestamp
    event_id: str
    def __init__(self, value: _Optional[str] = ..., source: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_id: _Optional[str] = ...) -> None: ...

class Consent(_message.Message):
    __slots__ = ("channel", "purpose", "state", "evidence_event_id", "occurred_at")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    channel: str
    purpose: str
    state: ConsentState
    evidence_event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, channel: _Optional[str] = ..., purpose: _Optional[str] = ..., state: _Optional[_Union[ConsentState, str]] = ..., evidence_event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChannelSummary(_message.Message):
    __slots__ = ("interactions", "first_interaction", "last_interaction")
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    FIRST_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    LAST_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    interactions: int
    first_interaction: _timestamp_pb2.Timestamp
    last_interaction: _timestamp_pb2.Timestamp
    def __init__(self, interactions: _Optional[int] = ..., first_interaction: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_interaction: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderMetrics(_message.Message):
    __slots__ = ("currency", "orders", "lifetime_revenue", "average_order_value", "last_order_at", "unconverted")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_REVENUE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    LAST_ORDER_AT_FIELD_NUMBER: _ClassVar[int]
    UNCONVERTED_FIELD_NUMBER: _ClassVar[int]
    currency: str
    orders: int
    lifetime_revenue: _types_pb2.Money
    average_order_value: _types_pb2.Money
    last_order_at: _timestamp_pb2.Timestamp
    unconverted: _containers.RepeatedCompositeFieldContainer[Unconverted]
    def __init__(self, currency: _Optional[str] = ..., orders: _Optional[int] = ..., lifetime_revenue: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., average_order_value: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., last_order_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unconverted: _Optional[_Iterable[_Union[Unconverted, _Mapping]]] = ...) -> None: ...

class Unconverted(_message.Message):
    __slots__ = ("event_id", "type", "amount")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    amount: _types_pb2.Money
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class RfmScores(_message.Message):
    __slots__ = ("recency", "frequency", "monetary", "score", "days_since_last_order")
    RECENCY_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MONETARY_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    DAYS_SINCE_LAST_ORDER_FIELD_NUMBER: _ClassVar[int]
    recency: int
    frequency: int
    monetary: int
    score: str
    days_since_last_order: int
    def __init__(self, recency: _Optional[int] = ..., frequency: _Optional[int] = ..., monetary: _Optional[int] = ..., score: _Optional[str] = ..., days_since_last_order: _Optional[int] = ...) -> None: ...

class ClvEstimate(_message.Message):
    __slots__ = ("value", "annual_margin", "revenue_per_year", "contacts_per_year", "observed_days", "horizon_years")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_MARGIN_FIELD_NUMBER: _ClassVar[int]
    REVENUE_PER_YEAR_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_PER_YEAR_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_DAYS_FIELD_NUMBER: _ClassVar[int]
    HORIZON_YEARS_FIELD_NUMBER: _ClassVar[int]
    value: _types_pb2.Money
    annual_margin: _types_pb2.Money
    revenue_per_year: _types_pb2.Money
    contacts_per_year: str
    observed_days: int
    horizon_years: int
    def __init__(self, value: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., annual_margin: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., revenue_per_year: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., contacts_per_year: _Optional[str] = ..., observed_days: _Optional[int] = ..., horizon_years: _Optional[int] = ...) -> None: ...

class Satisfaction(_message.Message):
    __slots__ = ("nps", "csat")
    NPS_FIELD_NUMBER: _ClassVar[int]
    CSAT_FIELD_NUMBER: _ClassVar[int]
    nps: ScoreSummary
    csat: ScoreSummary
    def __init__(self, nps: _Optional[_Union[ScoreSummary, _Mapping]] = ..., csat: _Optional[_Union[ScoreSummary, _Mapping]] = ...) -> None: ...

class ScoreSummary(_message.Message):
    __slots__ = ("latest", "average", "responses")
    LATEST_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FIELD_NUMBER: _ClassVar[int]
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    latest: int
    average: str
    responses: int
    def __init__(self, latest: _Optional[int] = ..., average: _Optional[str] = ..., responses: _Optional[int] = ...) -> None: ...

class OpenComplaint(_message.Message):
    __slots__ = ("event_id", "channel", "category", "severity", "occurred_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    channel: str
    category: str
    severity: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., channel: _Optional[str] = ..., category: _Optional[str] = ..., severity: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Freshness(_message.Message):
    __slots__ = ("version", "last_event_at")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_AT_FIELD_NUMBER: _ClassVar[int]
    version: int
    last_event_at: _timestamp_pb2.Timestamp
    def __init__(self, version: _Optional[int] = ..., last_event_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
