# protoc --pyi_out quirks, silenced by proto/generate.py (see STUB_QUIRKS).
# mypy: disable-error-code="type-arg"
import datetime

from crm.common.v1 import options_pb2 as _options_pb2
from crm.common.v1 import types_pb2 as _types_pb2
from crm.touchpoints.v1 import touchpoints_pb2 as _touchpoints_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Assurance(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSURANCE_UNSPECIFIED: _ClassVar[Assurance]
    ASSURANCE_VERIFIED: _ClassVar[Assurance]
    ASSURANCE_SELF_ASSERTED: _ClassVar[Assurance]

class ConsentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_STATE_UNSPECIFIED: _ClassVar[ConsentState]
    CONSENT_STATE_GRANTED: _ClassVar[ConsentState]
    CONSENT_STATE_DENIED: _ClassVar[ConsentState]
ASSURANCE_UNSPECIFIED: Assurance
ASSURANCE_VERIFIED: Assurance
ASSURANCE_SELF_ASSERTED: Assurance
CONSENT_STATE_UNSPECIFIED: ConsentState
CONSENT_STATE_GRANTED: ConsentState
CONSENT_STATE_DENIED: ConsentState

class TouchpointAttributed(_message.Message):
    __slots__ = ("customer_id", "touchpoint", "links")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    touchpoint: _touchpoints_pb2.TouchpointRecorded
    links: _containers.RepeatedCompositeFieldContainer[IdentifierLinked]
    def __init__(self, customer_id: _Optional[str] = ..., touchpoint: _Optional[_Union[_touchpoints_pb2.TouchpointRecorded, _Mapping]] = ..., links: _Optional[_Iterable[_Union[IdentifierLinked, _Mapping]]] = ...) -> None: ...

class ProfileCreated(_message.Message):
    __slots__ = ("customer_id", "source_event_id", "occurred_at", "links")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    source_event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    links: _containers.RepeatedCompositeFieldContainer[IdentifierLinked]
    def __init__(self, customer_id: _Optional[str] = ..., source_event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., links: _Optional[_Iterable[_Union[IdentifierLinked, _Mapping]]] = ...) -> None: ...

class IdentifierLinked(_message.Message):
    __slots__ = ("customer_id", "identifier", "source_event_id", "rule", "assurance")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    ASSURANCE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    identifier: _types_pb2.Identifier
    source_event_id: str
    rule: str
    assurance: Assurance
    def __init__(self, customer_id: _Optional[str] = ..., identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., source_event_id: _Optional[str] = ..., rule: _Optional[str] = ..., assurance: _Optional[_Union[Assurance, str]] = ...) -> None: ...

class TraitObserved(_message.Message):
    __slots__ = ("customer_id", "name", "value", "source", "occurred_at")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    name: str
    value: str
    source: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., name: _Optional[str] = ..., value: _Optional[str] = ..., source: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConsentChanged(_message.Message):
    __slots__ = ("customer_id", "channel", "purpose", "state", "evidence_event_id", "occurred_at", "evidence", "recorded_by")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    channel: str
    purpose: str
    state: ConsentState
    evidence_event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    evidence: str
    recorded_by: str
    def __init__(self, customer_id: _Optional[str] = ..., channel: _Optional[str] = ..., purpose: _Optional[str] = ..., state: _Optional[_Union[ConsentState, str]] = ..., evidence_event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evidence: _Optional[str] = ..., recorded_by: _Optional[str] = ...) -> None: ...

class ProfilesMerged(_message.Message):
    __slots__ = ("survivor_id", "merged_away_id", "bridging_event_id", "bridging_identifiers", "rule")
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_AWAY_ID_FIELD_NUMBER: _ClassVar[int]
    BRIDGING_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BRIDGING_IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    survivor_id: str
    merged_away_id: str
    bridging_event_id: str
    bridging_identifiers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    rule: str
    def __init__(self, survivor_id: _Optional[str] = ..., merged_away_id: _Optional[str] = ..., bridging_event_id: _Optional[str] = ..., bridging_identifiers: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., rule: _Optional[str] = ...) -> None: ...

class MergeBlocked(_message.Message):
    __slots__ = ("customer_ids", "reason", "bridging_event_id")
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BRIDGING_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    bridging_event_id: str
    def __init__(self, customer_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., bridging_event_id: _Optional[str] = ...) -> None: ...

class ProfileErased(_message.Message):
    __slots__ = ("customer_id", "erased_at", "receipt_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ERASED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    erased_at: _timestamp_pb2.Timestamp
    receipt_id: str
    def __init__(self, customer_id: _Optional[str] = ..., erased_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., receipt_id: _Optional[str] = ...) -> None: ...

class IdentifierUnlinked(_message.Message):
    __slots__ = ("customer_id", "identifier", "reason", "source_event_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    identifier: _types_pb2.Identifier
    reason: str
    source_event_id: str
    def __init__(self, customer_id: _Optional[str] = ..., identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., reason: _Optional[str] = ..., source_event_id: _Optional[str] = ...) -> None: ...

class ProfileUnmerged(_message.Message):
    __slots__ = ("customer_id", "restored_id", "identifiers", "reason", "source_event_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    restored_id: str
    identifiers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    reason: str
    source_event_id: str
    def __init__(self, customer_id: _Optional[str] = ..., restored_id: _Optional[str] = ..., identifiers: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., reason: _Optional[str] = ..., source_event_id: _Optional[str] = ...) -> None: ...

class TouchpointUnattributed(_message.Message):
    __slots__ = ("customer_id", "touchpoint_event_id", "reason")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    touchpoint_event_id: str
    reason: str
    def __init__(self, customer_id: _Optional[str] = ..., touchpoint_event_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class IdentifierMarkedShared(_message.Message):
    __slots__ = ("identifier", "customer_ids", "reason")
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    identifier: _types_pb2.Identifier
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., customer_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ProfileSplit(_message.Message):
    __slots__ = ("customer_id", "new_customer_id", "identifiers", "reason", "requested_by", "occurred_at")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    new_customer_id: str
    identifiers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    reason: str
    requested_by: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., new_customer_id: _Optional[str] = ..., identifiers: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., reason: _Optional[str] = ..., requested_by: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TouchpointsErased(_message.Message):
    __slots__ = ("customer_id", "receipt_id", "touchpoint_event_ids")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINT_EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    receipt_id: str
    touchpoint_event_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_id: _Optional[str] = ..., receipt_id: _Optional[str] = ..., touchpoint_event_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class TouchpointSuppressed(_message.Message):
    __slots__ = ("touchpoint_event_id", "receipt_id")
    TOUCHPOINT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    touchpoint_event_id: str
    receipt_id: str
    def __init__(self, touchpoint_event_id: _Optional[str] = ..., receipt_id: _Optional[str] = ...) -> None: ...

class SuppressionLifted(_message.Message):
    __slots__ = ("receipt_id", "evidence_event_id", "occurred_at")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    evidence_event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, receipt_id: _Optional[str] = ..., evidence_event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
