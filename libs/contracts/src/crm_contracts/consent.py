"""The consent vocabulary every service shares: contact channels and purposes."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["CONSENT_CHANNELS", "CONSENT_PURPOSES", "ConsentChannel", "ConsentPurpose"]

ConsentChannel = Literal["email", "sms", "phone", "direct_mail", "push"]
"""How a person may be contacted (a consent is per channel and purpose)."""

ConsentPurpose = Literal["marketing", "service", "survey", "profiling"]
"""What for: offers, service messages, satisfaction surveys, analysis of their data."""

CONSENT_CHANNELS: tuple[str, ...] = get_args(ConsentChannel)
CONSENT_PURPOSES: tuple[str, ...] = get_args(ConsentPurpose)
