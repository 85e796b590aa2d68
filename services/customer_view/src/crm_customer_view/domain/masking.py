"""Masked forms of PII for readers without ``customers:read:pii``.

PII here is names, emails and phones (ARCHITECTURE.md). A masked form keeps enough to
recognise a value the reader already knows, never enough to learn it:
``ada@example.com`` -> ``a***@example.com``, ``+12125552671`` -> ``+1******2671``,
``Ada`` -> ``A***``.
"""

from __future__ import annotations

__all__ = ["NAME_TRAITS", "PII_IDENTIFIER_TYPES", "mask_email", "mask_identifier",
           "mask_name", "mask_phone", "mask_trait"]

NAME_TRAITS: frozenset[str] = frozenset({"first_name", "last_name"})
PII_IDENTIFIER_TYPES: frozenset[str] = frozenset({"email", "phone"})


def mask_email(email: str) -> str:
    """The first character of the local part, then ``***``, then the domain."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return mask_name(email)
    return f"{local[0]}***@{domain}"


def mask_phone(phone: str) -> str:
    """The first two characters (``+`` and the first digit) and the last four, the rest
    starred; seven characters or fewer are starred whole."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:2] + "*" * (len(phone) - 6) + phone[-4:]


def mask_name(name: str) -> str:
    """The first character, then ``***``."""
    return f"{name[0]}***" if name else ""


def mask_identifier(identifier_type: str, value: str) -> str:
    """Emails and phones masked; other identifier types are not PII and stay."""
    if identifier_type == "email":
        return mask_email(value)
    if identifier_type == "phone":
        return mask_phone(value)
    return value


def mask_trait(name: str, value: str) -> str:
    """Name traits masked; other traits stay."""
    return mask_name(value) if name in NAME_TRAITS else value
