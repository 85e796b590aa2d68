"""Record changes: whether a newly folded record differs from the stored one, and where.

The view publishes a change only when the record really changed (a duplicate or a no-op
event changes nothing), and says which top-level fields did. Both are decided on the
unmasked record, the one its digest is taken of: a new name whose mask is the same is
still a change of ``traits``.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_customer_view.domain.record import CustomerRecord, JsonObject, Redirect

__all__ = ["RecordChange", "record_change", "stored_form"]

_IDENTITY = "customer_id"  # the same on both sides by construction


@dataclass(frozen=True)
class RecordChange:
    """``after`` replaced what was stored; ``changed``: the top-level fields that differ
    (record fields, and ``merged_into`` when the id was merged away or came back)."""

    after: CustomerRecord | Redirect
    changed: tuple[str, ...]

    @property
    def customer_id(self) -> str:
        return self.after.customer_id


def stored_form(result: CustomerRecord | Redirect) -> JsonObject:
    """What the service stores of a result, and :func:`record_change` compares: the
    record's unmasked JSON, or the redirect's."""
    if isinstance(result, Redirect):
        return result.to_json()
    return result.to_json(mask_pii=False)


def record_change(
    before: JsonObject | None, after: CustomerRecord | Redirect
) -> RecordChange | None:
    """The change from ``before`` (the :func:`stored_form` stored, None if nothing is) to
    ``after``; None when they are the same."""
    was, now = before or {}, stored_form(after)
    changed = sorted(name for name in was.keys() | now.keys() if name != _IDENTITY and (
        name not in was or name not in now or was[name] != now[name]))
    return RecordChange(after, tuple(changed)) if changed else None
