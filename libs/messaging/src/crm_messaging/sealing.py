"""Sealed payloads: personal data on the topics stays readable only while its key exists.

Kafka cannot rewrite what it holds, so an erasure cannot take personal data off a topic.
Instead, the payloads that carry it are published sealed (AES-256-GCM) under a data key
of the key vault: one key per touchpoint, one per customer. An erasure destroys the
person's keys, and every copy of those payloads, on every topic, dead-letter topics and
consumer replays included, becomes unreadable (crypto-shredding).

A service says which of its events are sealed, and by which key, with a
:data:`SealPolicy`; the outbox relay seals at publication and the consumer kit opens
before handlers see the message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crm.common.v1.envelope_pb2 import Envelope
from crm_eventstore import RecordedEvent

__all__ = [
    "SECRET_BYTES", "BrokenSeal", "KeyDestroyed", "SealPolicy", "new_secret", "open_envelope",
    "open_sealed", "seal",
]

SECRET_BYTES = 32
_NONCE_BYTES = 12

# The vault key id that seals an event's payload, or None to publish it in the clear
# (events without personal data, and those that must stay readable after an erasure).
SealPolicy = Callable[[RecordedEvent], str | None]


class BrokenSeal(ValueError):
    """A sealed payload that its key does not open: tampered with, or the wrong key."""


class KeyDestroyed(LookupError):
    """The payload's key was destroyed: its person was erased, it is unreadable for good."""


def new_secret() -> bytes:
    """A fresh random data key."""
    return os.urandom(SECRET_BYTES)


def seal(payload: bytes, *, event_id: str, secret: bytes) -> bytes:
    """``payload`` sealed under ``secret``: nonce, then ciphertext and tag. The event id is
    authenticated with it, so a sealed payload cannot be passed off as another event's."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(secret).encrypt(nonce, payload, event_id.encode())


def open_sealed(sealed: bytes, *, event_id: str, secret: bytes) -> bytes:
    """The payload that :func:`seal` sealed; raises :class:`BrokenSeal` if it does not open."""
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        return AESGCM(secret).decrypt(nonce, body, event_id.encode())
    except (InvalidTag, ValueError):
        raise BrokenSeal(f"the sealed payload of event {event_id} does not open") from None


def open_envelope(envelope: Envelope, secrets: Mapping[str, bytes | None]) -> None:
    """Open ``envelope``'s sealed payload in place with its key among ``secrets`` (the
    vault's answer: ``None`` for a destroyed key); an envelope in the clear is left alone.
    Raises :class:`KeyDestroyed`, or :class:`BrokenSeal` (also for a key the vault does
    not know)."""
    key_id = envelope.sealed_by
    if not key_id:
        return
    if key_id not in secrets:
        raise BrokenSeal(f"event {envelope.event_id} is sealed by key {key_id!r}, "
                         "which the key vault does not know")
    secret = secrets[key_id]
    if secret is None:
        raise KeyDestroyed(key_id)
    envelope.payload = open_sealed(envelope.payload, event_id=envelope.event_id, secret=secret)
    envelope.ClearField("sealed_by")
