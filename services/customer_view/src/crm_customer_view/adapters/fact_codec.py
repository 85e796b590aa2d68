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
from dataclasses import fields, is_dataclass
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import orjson

from crm_customer_view.domain import Fact

__all__ = ["decode_facts", "encode_facts"]

_TAG = "$type"


def encode_facts(facts: Iterable[Fact]) -> str:
    """The facts as one JSON array (compact, UTF-8 kept as is)."""
    return orjson.dumps(list(facts), default=_object_of,
                        option=orjson.OPT_PASSTHROUGH_DATACLASS).decode()


def decode_facts(text: str | bytes) -> tuple[Fact, ...]:
    """The facts of a JSON array written by :func:`encode_facts`."""
    decode = _decoder(Fact)
    return tuple(decode(item) for item in orjson.loads(text))


def _object_of(value: Any) -> dict[str, Any]:
    """A dataclass as the object of its fields, for orjson (which writes the rest itself:
    strings, numbers, tuples, datetimes as ISO 8601, like ``datetime.isoformat``). A
    class that is one of several a field may hold names itself under ``"$type"``, as
    the decoder (built from the same type hints) expects."""
    try:
        names, values_of, tag = _layouts()[type(value)]
    except KeyError:
        raise TypeError(f"no codec for {type(value)!r}") from None
    values = values_of(value)
    fields_and_values = zip(names, (values,) if len(names) == 1 else values, strict=True)
    return {_TAG: tag, **dict(fields_and_values)} if tag else dict(fields_and_values)


@cache
def _layouts() -> dict[type, tuple[tuple[str, ...], Callable[[Any], Any], str | None]]:
    """Every dataclass a fact can hold: its field names, a getter of their values (one
    C call for all of them) and its tag if it is one of a union's classes."""
    layouts: dict[type, tuple[tuple[str, ...], Callable[[Any], Any], str | None]] = {}
    tagged: set[type] = set()

    def visit(hint: Any) -> None:
        if get_origin(hint) in (Union, types.UnionType):
            kinds = [arg for arg in get_args(hint) if arg is not type(None)]
            if len(kinds) > 1:
                tagged.update(kinds)
        if is_dataclass(hint) and isinstance(hint, type):
            if hint in layouts:
                return
            names = tuple(f.name for f in fields(hint))
            layouts[hint] = (names, attrgetter(*names) if names else (lambda _: ()), None)
            for hint_of_field in get_type_hints(hint).values():
                visit(hint_of_field)
        for arg in get_args(hint):
            visit(arg)

    visit(Fact)
    return {cls: (names, values_of, cls.__name__ if cls in tagged else None)
            for cls, (names, values_of, _) in layouts.items()}


_Decode = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@cache
def _decoder(hint: Any) -> _Decode:
    """The decoder of a type hint (built once per hint)."""
    if hint in (str, int, bool) or get_origin(hint) is Literal:
        return _same  # JSON has them already
    if hint is datetime:
        return datetime.fromisoformat
    if get_origin(hint) is tuple:
        return _tuple(get_args(hint))
    if get_origin(hint) in (Union, types.UnionType):
        return _union(get_args(hint))
    if is_dataclass(hint) and isinstance(hint, type):
        return _dataclass(hint)
    raise TypeError(f"no codec for {hint!r}")


def _tuple(args: tuple[Any, ...]) -> _Decode:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])
        return lambda v: tuple(item(x) for x in v)
    parts = [_decoder(arg) for arg in args]
    return lambda v: tuple(c(x) for c, x in zip(parts, v, strict=True))


def _union(args: tuple[Any, ...]) -> _Decode:
    kinds = [arg for arg in args if arg is not type(None)]
    if len(kinds) == 1:
        inner = _decoder(kinds[0])
        return lambda v: None if v is None else inner(v)
    by_name = {kind.__name__: _decoder(kind) for kind in kinds}
    return lambda v: None if v is None else by_name[v[_TAG]](v)


def _dataclass(cls: type[Any]) -> _Decode:
    hints = get_type_hints(cls)
    members = [(f.name, _decoder(hints[f.name])) for f in fields(cls)]
    return lambda v: cls(**{name: decode(v[name]) for name, decode in members if name in v})
