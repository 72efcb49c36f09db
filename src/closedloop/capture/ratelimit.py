"""Token buckets per site key and per client IP, in this process.

Each server process keeps its own buckets, so N workers allow N times the rate; sharing the
buckets across processes (a store or cache both see) is the scaling work's concern.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Buckets of `burst` tokens refilled at `rate` tokens per second, one per key (LRU-bounded)."""

    def __init__(
        self,
        *,
        rate: float,
        burst: float,
        max_keys: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._now = monotonic
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens: 0.0 if allowed, else the seconds to wait before it would be."""
        now = self._now()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(self.burst, now)
                self._buckets[key] = bucket
                if len(self._buckets) > self.max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
                bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / self.rate

    def give_back(self, key: str, cost: float) -> None:
        """Return tokens taken for a request that another limit refused."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(self.burst, bucket.tokens + cost)


class RateLimiter:
    """The capture limits: a request passes only if both its key's and its IP's buckets allow it."""

    def __init__(self, *, key_rate: float, key_burst: float, ip_rate: float, ip_burst: float) -> None:
        self.by_key = TokenBuckets(rate=key_rate, burst=key_burst)
        self.by_ip = TokenBuckets(rate=ip_rate, burst=ip_burst)

    def check(self, *, key: str, ip: str, cost: float = 1.0) -> float:
        """0.0 if allowed (tokens spent on both), else seconds until a retry may pass."""
        wait = self.by_ip.take(ip, cost)
        if wait:
            return wait
        wait = self.by_key.take(key, cost)
        if wait:
            self.by_ip.give_back(ip, cost)
        return wait
