"""Lists of ids, identifiers and tokens sent to Postgres as one text parameter each.

The driver checks and encodes each element of an array parameter (~0.3 us: two
``collections.abc`` checks for a string) and a consumer chunk sends ~20,000; one string
costs it next to nothing. The statement splits the text again (:data:`IDS`, :data:`SETS`).
Only for values that are never empty and hold no control character (normalised
identifiers, touchpoint and customer ids, suppression tokens): an empty one would vanish,
a lone empty one leave an empty list.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["IDS", "SEP", "SETS", "packed", "packed_sets"]

SEP = chr(31)  # unit separator: joins text[] values inside one array element
_SET_SEP = chr(30)  # record separator: joins such joined values into one parameter
# SQL that unpacks a parameter ({} is its placeholder): a list, and a list of lists.
IDS = f"string_to_array({{}}, chr({ord(SEP)}))"
SETS = f"string_to_array({{}}, chr({ord(_SET_SEP)}))"


def packed(values: Iterable[str]) -> str:
    """``values`` as one text parameter, for :data:`IDS` to unpack."""
    return SEP.join(values)


def packed_sets(sets: Iterable[Iterable[str]]) -> str:
    """:func:`packed` of each set (sorted, not empty), the results packed for :data:`SETS`."""
    return _SET_SEP.join(SEP.join(sorted(values)) for values in sets)
