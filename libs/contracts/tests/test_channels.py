"""Channel numbers as names."""

from __future__ import annotations

from crm.touchpoints.v1 import touchpoints_pb2 as pb
from crm_contracts import channel_name


def test_every_channel_has_its_name_without_the_prefix() -> None:
    assert channel_name(pb.CHANNEL_CALL_CENTER) == "call_center"
    assert channel_name(pb.CHANNEL_WEB) == "web"
    assert channel_name(pb.CHANNEL_UNSPECIFIED) == "unspecified"
    assert {channel_name(number) for _, number in pb.Channel.items()} == {
        name.removeprefix("CHANNEL_").lower() for name, _ in pb.Channel.items()}


def test_a_channel_this_build_does_not_know_is_unspecified() -> None:
    assert channel_name(max(pb.Channel.values()) + 1) == "unspecified"
