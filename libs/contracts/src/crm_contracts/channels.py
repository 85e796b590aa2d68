"""Channel numbers of ``crm.touchpoints.v1.Channel`` as the names the services show."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from crm.touchpoints.v1.touchpoints_pb2 import Channel

__all__ = ["channel_name"]

_NAMES: Mapping[int, str] = MappingProxyType({
    number: name.removeprefix("CHANNEL_").lower() for name, number in Channel.items()})


def channel_name(number: int) -> str:
    """``call_center`` for ``CHANNEL_CALL_CENTER``, and so on; ``unspecified`` for a
    number this build does not know (a newer producer's channel), rather than an error:
    a reader should show what it can of such a touchpoint."""
    return _NAMES.get(number, "unspecified")
