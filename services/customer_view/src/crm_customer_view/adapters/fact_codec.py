"""Facts as JSON and back: the form in which the projection stores its state.

The projection keeps facts, not the events they came from: what it stores is exactly
what it folds, so an erasure can rewrite it (``scrubbed_events``), and nothing else an
event carried (a merge's bridging identifiers, touchpoint fields the view never reads)
lingers in its tables.

The codec is derived from the facts' type hints, so a new fact or property type needs
no serialiser of its own: a dataclass becomes an object of its fields, a tuple an array,
a datetime an ISO 8601 string; where a field may hold one of several dataclasses (a
fact, a touchpoint's properties) the object names its class under ``"$type"``. Fields
missing from a stored object take their defaults, so a fact may gain a field with a
default without rewriting what is stored.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import orjson

from crm_customer_view.domain import Fact

__all__ = ["decode_facts", "encode_facts"]

_TAG = "$type"


def encode_facts(facts: Iterable[Fact]) -> str:
    """The facts as one JSON array (compact, UTF-8 kept as is)."""
    encode = _codec(Fact).encode
    return orjson.dumps([encode(fact) for fact in facts]).decode()


def decode_facts(text: str | bytes) -> tuple[Fact, ...]:
    """The facts of a JSON array written by :func:`encode_facts`."""
    decode = _codec(Fact).decode
    return tuple(decode(item) for item in orjson.loads(text))


@dataclass(frozen=True)
class _Codec:
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


_PLAIN = _Codec(_same, _same)  # JSON has them already


@cache
def _codec(hint: Any) -> _Codec:
    """The codec of a type hint (built once per hint)."""
    if hint in (str, int, bool) or get_origin(hint) is Literal:
        return _PLAIN
    if hint is datetime:
        return _Codec(datetime.isoformat, datetime.fromisoformat)
    if get_origin(hint) is tuple:
        return _tuple(get_args(hint))
    if get_origin(hint) in (Union, types.UnionType):
        return _union(get_args(hint))
    if is_dataclass(hint) and isinstance(hint, type):
        return _dataclass(hint)
    raise TypeError(f"no codec for {hint!r}")


def _tuple(args: tuple[Any, ...]) -> _Codec:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _codec(args[0])
        return _Codec(lambda v: [item.encode(x) for x in v],
                      lambda v: tuple(item.decode(x) for x in v))
    parts = [_codec(arg) for arg in args]
    return _Codec(lambda v: [c.encode(x) for c, x in zip(parts, v, strict=True)],
                  lambda v: tuple(c.decode(x) for c, x in zip(parts, v, strict=True)))


def _union(args: tuple[Any, ...]) -> _Codec:
    kinds = [arg for arg in args if arg is not type(None)]
    if len(kinds) == 1:
        inner = _codec(kinds[0])
        return _Codec(lambda v: None if v is None else inner.encode(v),
                      lambda v: None if v is None else inner.decode(v))
    by_class = {kind: _codec(kind) for kind in kinds}
    by_name = {kind.__name__: codec for kind, codec in by_class.items()}

    def encode(value: Any) -> Any:
        if value is None:
            return None
        return {_TAG: type(value).__name__, **by_class[type(value)].encode(value)}

    def decode(value: Any) -> Any:
        return None if value is None else by_name[value[_TAG]].decode(value)

    return _Codec(encode, decode)


def _dataclass(cls: type[Any]) -> _Codec:
    hints = get_type_hints(cls)
    members = [(f.name, _codec(hints[f.name])) for f in fields(cls)]

    def encode(value: Any) -> dict[str, Any]:
        return {name: codec.encode(getattr(value, name)) for name, codec in members}

    def decode(value: dict[str, Any]) -> Any:
        return cls(**{name: codec.decode(value[name]) for name, codec in members
                      if name in value})

    return _Codec(encode, decode)
