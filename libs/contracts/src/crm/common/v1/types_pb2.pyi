from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdentifierType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTIFIER_TYPE_UNSPECIFIED: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_CUSTOMER_NUMBER: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_EMAIL: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_PHONE: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_ANONYMOUS_ID: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_LOYALTY_ID: _ClassVar[IdentifierType]
IDENTIFIER_TYPE_UNSPECIFIED: IdentifierType
IDENTIFIER_TYPE_CUSTOMER_NUMBER: IdentifierType
IDENTIFIER_TYPE_EMAIL: IdentifierType
IDENTIFIER_TYPE_PHONE: IdentifierType
IDENTIFIER_TYPE_ANONYMOUS_ID: IdentifierType
IDENTIFIER_TYPE_LOYALTY_ID: IdentifierType

class Money(_message.Message):
    __slots__ = ("amount", "currency")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    amount: str
    currency: str
    def __init__(self, amount: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class Identifier(_message.Message):
    __slots__ = ("type", "value")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    type: IdentifierType
    value: str
    def __init__(self, type: _Optional[_Union[IdentifierType, str]] = ..., value: _Optional[str] = ...) -> None: ...
