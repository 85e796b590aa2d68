"""Sealed payloads: AES-GCM under a data key, bound to the event id."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.common.v1.envelope_pb2 import Envelope
from crm_messaging.sealing import (
    BrokenSeal,
    KeyDestroyed,
    new_secret,
    open_envelope,
    open_sealed,
    seal,
)

EVENT = str(uuid.uuid4())


@given(st.binary(max_size=4_096))
def test_a_sealed_payload_opens_to_itself_and_shows_nothing_of_it(payload: bytes) -> None:
    secret = new_secret()
    sealed = seal(payload, event_id=EVENT, secret=secret)

    assert open_sealed(sealed, event_id=EVENT, secret=secret) == payload
    if len(payload) >= 8:
        assert payload not in sealed


def test_the_same_payload_seals_differently_each_time() -> None:
    secret = new_secret()

    assert seal(b"ada@example.com", event_id=EVENT, secret=secret) != seal(
        b"ada@example.com", event_id=EVENT, secret=secret)


@pytest.mark.parametrize("tamper", ["other key", "other event", "flipped bit", "truncated"])
def test_a_payload_does_not_open_with_another_key_event_or_altered_bytes(tamper: str) -> None:
    secret = new_secret()
    sealed = seal(b"a payload with personal data", event_id=EVENT, secret=secret)
    event_id = EVENT
    if tamper == "other key":
        secret = new_secret()
    elif tamper == "other event":
        event_id = str(uuid.uuid4())
    elif tamper == "flipped bit":
        sealed = sealed[:20] + bytes([sealed[20] ^ 1]) + sealed[21:]
    else:
        sealed = sealed[:10]

    with pytest.raises(BrokenSeal):
        open_sealed(sealed, event_id=event_id, secret=secret)


def test_an_envelope_opens_in_place_or_says_why_not() -> None:
    secret = new_secret()
    envelope = Envelope(event_id=EVENT, sealed_by="touchpoint:1",
                        payload=seal(b"payload", event_id=EVENT, secret=secret))
    clear = Envelope(event_id=EVENT, payload=b"in the clear")

    open_envelope(clear, {})
    with pytest.raises(KeyDestroyed):
        open_envelope(envelope, {"touchpoint:1": None})
    with pytest.raises(BrokenSeal, match="does not know"):
        open_envelope(envelope, {})
    open_envelope(envelope, {"touchpoint:1": secret})

    assert clear.payload == b"in the clear"
    assert (envelope.payload, envelope.sealed_by) == (b"payload", "")
