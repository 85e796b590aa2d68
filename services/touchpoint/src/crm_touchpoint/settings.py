"""Settings of the touchpoint service (environment variables, see deploy/.env.example)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr

from crm_servicekit import ServiceSettings
from crm_touchpoint.domain import IngestionRules

__all__ = ["TouchpointSettings"]


class TouchpointSettings(ServiceSettings):
    service_name: str = "touchpoint"
    http_port: int = 8001
    # A batch is at most 1 MiB (and 1,000 events); one event at most 32 KiB.
    max_body_bytes: int = Field(default=1_048_576, ge=0)
    default_phone_region: str = Field(
        default="US", description="ISO 3166 region for phone numbers without +country")
    test_email_addresses: str = Field(
        default="test@example.com,test@test.com,noreply@example.com",
        description="comma-separated addresses treated as junk identifiers")
    partition_key_secret: SecretStr = Field(
        default=SecretStr("dev-only-partition-key-secret"),
        description="key of the hash that turns a touchpoint's strongest identifier into "
                    "its Kafka key")
    group_commit_writers: int = Field(
        default=1, ge=1,
        description="transactions each HTTP worker has in flight at once; requests arriving "
                    "meanwhile share the next one (1: fewest commits, measured fastest)")
    group_commit_linger_ms: float = Field(
        default=2.0, ge=0,
        description="how long a group commit smaller than group_commit_linger_events waits "
                    "for more requests: fewer, fuller transactions when events come one per "
                    "request, for at most this much more latency (0: no waiting)")
    group_commit_linger_events: int = Field(
        default=8, ge=1,
        description="a group commit holding this many events goes at once")
    rate_limit_events_per_second: float = Field(default=20_000, gt=0)
    rate_limit_burst_events: int = Field(default=40_000, gt=0)
    erasures_topic: str = Field(default="crm.erasures.v1",
                                description="where the profile service announces the "
                                            "touchpoints to erase")
    erasure_consumer_group: str = Field(
        default="touchpoint.erasure",
        description="consumer group that erases touchpoints of erased people")

    def ingestion_rules(self) -> IngestionRules:
        """The validation rules these settings configure."""
        addresses = {a.strip().lower() for a in self.test_email_addresses.split(",") if a.strip()}
        return IngestionRules(
            default_region=self.default_phone_region.upper(),
            test_addresses=frozenset(addresses),
            future_tolerance=timedelta(minutes=5),
        )
