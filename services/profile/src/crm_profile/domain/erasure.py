"""Erasure: which values an erased person leaves behind, and what replaces them.

An erased identifier is replaced, wherever the profile service keeps it, by a *token*:
a keyed hash (HMAC-SHA256 with a secret of the deployment) written ``type:erased:<hex>``.
The token keeps the identity graph's shape (a shared household phone stays shared
between the people who remain), lets the suppression list recognise the identifier
when it comes back, and cannot be turned back into the value without the key. Free text
that quoted a value (a merge-blocked reason) gets the token in its place.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from crm_profile.domain.identity import Identifier, identifier_type

__all__ = ["ERASED_MARK", "Erased", "erased_token", "is_token"]

ERASED_MARK = "erased:"
"""How an erased identifier's value starts: ``email:erased:3f9c...``."""


def erased_token(identifier: Identifier, key: bytes) -> Identifier:
    """The stand-in of ``identifier`` once erased (stable for one key)."""
    digest = hmac.new(key, identifier.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{identifier_type(identifier)}:{ERASED_MARK}{digest}"


def is_token(identifier: Identifier) -> bool:
    """Whether ``identifier`` is already a stand-in (erasing twice changes nothing)."""
    return identifier.partition(":")[2].startswith(ERASED_MARK)


@dataclass(frozen=True)
class Erased:
    """What one erasure removes: the person's customer ids and identifiers.

    ``tokens`` maps each erased identifier to its stand-in; ``customers`` are the erased
    profile and every profile merged into it; ``touchpoints`` are theirs.
    """

    customers: frozenset[str]
    tokens: Mapping[Identifier, Identifier]
    touchpoints: frozenset[str]

    @staticmethod
    def of(customers: Iterable[str], identifiers: Iterable[Identifier],
           touchpoints: Iterable[str], key: bytes) -> Erased:
        tokens = {i: erased_token(i, key) for i in sorted(set(identifiers)) if not is_token(i)}
        return Erased(frozenset(customers), MappingProxyType(tokens), frozenset(touchpoints))

    def identifier(self, identifier: Identifier) -> Identifier:
        """``identifier``, or its token if it is erased."""
        return self.tokens.get(identifier, identifier)

    def value(self, type_: str, value: str) -> str:
        """A typed value, or the value part of its token if it is erased."""
        return self.identifier(f"{type_}:{value}").partition(":")[2]

    def text(self, text: str) -> str:
        """``text`` with every erased value it quotes replaced by its token's value.

        A value counts where it stands whole (not inside a longer word, an address or a
        token), in one pass, longest values first.
        """
        replacements = {i.partition(":")[2]: t.partition(":")[2] for i, t in self.tokens.items()}
        pattern = _quoted(replacements)
        return pattern.sub(lambda m: replacements[m.group(0)], text) if pattern else text

    def values(self) -> list[str]:
        """The raw erased values (what must appear nowhere afterwards)."""
        return sorted({i.partition(":")[2] for i in self.tokens})


_WORD = r"[\w@.+:-]"  # what an identifier is made of: a quote ends where these do


def _quoted(replacements: Mapping[str, str]) -> re.Pattern[str] | None:
    values = sorted((v for v in replacements if v), key=len, reverse=True)
    if not values:
        return None
    either = "|".join(re.escape(v) for v in values)
    return re.compile(f"(?<!{_WORD})(?:{either})(?!{_WORD})")
