"""Settings of the profile service (environment variables, see deploy/.env.example)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from crm_profile.domain.identity import DEFAULT_LIMITS, IdentityRules
from crm_servicekit import ServiceSettings

__all__ = ["ProfileSettings"]


class ProfileSettings(ServiceSettings):
    service_name: str = "profile"
    http_port: int = 8002
    touchpoints_topic: str = Field(default="crm.touchpoints.v1",
                                   description="the topic identity resolution consumes")
    identity_consumer_group: str = Field(default="profile.identity",
                                         description="consumer group of identity resolution")
    identity_consumers: int = Field(
        default=1, ge=1,
        description="identity consumers of the group in each instance: returning customers' "
                    "touchpoints are resolved side by side (a shared lock); give each its own "
                    "background process (BACKGROUND_PROCESSES) to use more cores")
    identity_blocked_values: str = Field(
        default="", description="comma-separated type:value identifiers that never link, "
                                "e.g. phone:+18005550100 (the call center's own number)")
    split_phone_region: str = Field(
        default="US", description="ISO 3166 region of phone numbers written without +country "
                                  "in split requests (as DEFAULT_PHONE_REGION at ingestion)")

    erasure_token_key: SecretStr = Field(
        default=SecretStr("dev-only-erasure-token-key"),
        description="secret key of the tokens that replace erased identifiers (HMAC-SHA256); "
                    "set your own, keep it: a new key forgets who is suppressed")

    def identity_rules(self) -> IdentityRules:
        blocked = {v.strip() for v in self.identity_blocked_values.split(",") if v.strip()}
        return IdentityRules(limits=DEFAULT_LIMITS, blocked=frozenset(blocked))
