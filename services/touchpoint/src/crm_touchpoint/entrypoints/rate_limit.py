"""Per-key rate limits: a token bucket per API key, counted in events.

Limits are per process; with N processes a key gets N times the rate. Every
answer carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset``; a refusal is a 429 problem with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from crm_servicekit import Problem

__all__ = ["RateLimiter"]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate`` events per second per key, with bursts of up to ``burst`` events."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key_id: str, cost: int) -> dict[str, str]:
        """Spend ``cost`` tokens of ``key_id``; return the headers, or raise a 429 problem."""
        now = self._clock()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        cost = min(cost, self.burst)  # a request larger than the burst waits for a full bucket
        if bucket.tokens < cost:
            wait = (cost - bucket.tokens) / self.rate
            raise Problem(
                429, "Too many events",
                f"this key may post {self.rate:g} events per second (bursts of {self.burst});"
                f" retry in {math.ceil(wait)} s",
                slug="rate-limited",
                headers={"Retry-After": str(math.ceil(wait)), **self._headers(bucket)},
            )
        bucket.tokens -= cost
        return self._headers(bucket)

    def _headers(self, bucket: _Bucket) -> dict[str, str]:
        refill = (self.burst - bucket.tokens) / self.rate
        return {
            "RateLimit-Limit": str(self.burst),
            "RateLimit-Remaining": str(int(bucket.tokens)),
            "RateLimit-Reset": str(math.ceil(refill)),
        }
