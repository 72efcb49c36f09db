"""Token buckets per site key and per client IP, shared by every server process on the host.

`closedloop serve --workers N` runs N processes; a limit kept in each process's memory would
allow N times the rate. The buckets therefore live in a small memory-mapped file that every
process of the same store opens (next to a SQLite store, else in the temporary directory, named
by a hash of the store URL), and each take or refund happens under an exclusive `flock` of that
file, so the processes see one bucket per key. The file is a fixed-size open-addressing table:
when a probe window is full the least recently used bucket is evicted (a fresh visitor key then
starts with a full bucket, as a new key would).

`TokenBuckets` is the same bucket arithmetic in one process's memory, for tests and embedders.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SLOT = struct.Struct("<Qdd")  # key hash (0 = empty), tokens, last update (CLOCK_MONOTONIC, host-wide)
HEADER = struct.Struct("<8sQ")  # magic, slots per table
MAGIC = b"CLRATE01"
PROBES = 8


class Buckets(Protocol):
    """What the limiter needs of a bucket table."""

    def take(self, key: str, cost: float = 1.0) -> float: ...

    def give_back(self, key: str, cost: float) -> None: ...


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


def _refill(tokens: float, updated: float, now: float, rate: float, burst: float) -> float:
    return min(burst, tokens + max(0.0, now - updated) * rate)


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
                bucket.tokens = _refill(bucket.tokens, bucket.updated, now, self.rate, self.burst)
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


class SharedTokenBuckets:
    """The same buckets in a memory-mapped file, so every process of the host shares them."""

    def __init__(
        self,
        path: Path | str,
        *,
        rate: float,
        burst: float,
        slots: int = 65_536,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self.path = Path(path)
        self._now = monotonic
        self._lock = threading.Lock()
        size = HEADER.size + slots * SLOT.size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            if os.fstat(self._fd).st_size < HEADER.size:
                os.ftruncate(self._fd, size)
                os.pwrite(self._fd, HEADER.pack(MAGIC, slots), 0)
            magic, stored = HEADER.unpack(os.pread(self._fd, HEADER.size, 0))
            if magic != MAGIC or stored <= 0:
                raise ValueError(f"{self.path} is not a closedloop rate-limit file")
            self.slots = int(stored)  # the first process decides the table size
            self._map = mmap.mmap(self._fd, HEADER.size + self.slots * SLOT.size)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    @staticmethod
    def _hash(key: str) -> int:
        return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") | 1

    def _slot(self, code: int) -> int:
        """The offset of the key's slot: its own, else an empty one, else the stalest of the window."""
        start = code % self.slots
        victim, oldest = -1, float("inf")
        for i in range(PROBES):
            offset = HEADER.size + ((start + i) % self.slots) * SLOT.size
            stored, _, updated = SLOT.unpack_from(self._map, offset)
            if stored == code or stored == 0:
                return offset
            if updated < oldest:
                victim, oldest = offset, updated
        SLOT.pack_into(self._map, victim, 0, 0.0, 0.0)
        return victim

    def _apply(self, key: str, cost: float, refund: bool) -> float:
        code = self._hash(key)
        now = self._now()
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                offset = self._slot(code)
                stored, tokens, updated = SLOT.unpack_from(self._map, offset)
                if stored != code or updated > now + 1.0:  # new, or written before this boot
                    if refund:
                        return 0.0
                    tokens, updated = self.burst, now
                tokens = _refill(tokens, updated, now, self.rate, self.burst)
                wait = 0.0
                if refund:
                    tokens = min(self.burst, tokens + cost)
                elif tokens >= cost:
                    tokens -= cost
                else:
                    wait = (cost - tokens) / self.rate
                SLOT.pack_into(self._map, offset, code, tokens, now)
                return wait
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens: 0.0 if allowed, else the seconds to wait before it would be."""
        return self._apply(key, cost, refund=False)

    def give_back(self, key: str, cost: float) -> None:
        """Return tokens taken for a request that another limit refused."""
        self._apply(key, cost, refund=True)

    def close(self) -> None:
        """Release the mapping and the file."""
        self._map.close()
        os.close(self._fd)


def limits_path(database_url: str, folder: str | None = None) -> Path:
    """Where the processes serving `database_url` keep their shared buckets."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    if folder:
        return Path(folder) / f"closedloop-capture-limits-{digest}"
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        store = Path(database_url.removeprefix("sqlite:///"))
        return store.with_name(store.name + ".capture-limits")
    return Path(tempfile.gettempdir()) / f"closedloop-capture-limits-{digest}"


class RateLimiter:
    """The capture limits: a request passes only if both its key's and its IP's buckets allow it."""

    def __init__(
        self,
        *,
        key_rate: float,
        key_burst: float,
        ip_rate: float,
        ip_burst: float,
        shared_path: Path | str | None = None,
    ) -> None:
        self.by_key: Buckets
        self.by_ip: Buckets
        if shared_path is None:
            self.by_key = TokenBuckets(rate=key_rate, burst=key_burst)
            self.by_ip = TokenBuckets(rate=ip_rate, burst=ip_burst)
        else:
            base = Path(shared_path)
            self.by_key = SharedTokenBuckets(
                base.with_name(base.name + ".keys"), rate=key_rate, burst=key_burst
            )
            self.by_ip = SharedTokenBuckets(base.with_name(base.name + ".ips"), rate=ip_rate, burst=ip_burst)

    def check(self, *, key: str, ip: str, cost: float = 1.0) -> float:
        """0.0 if allowed (tokens spent on both), else seconds until a retry may pass."""
        wait = self.by_ip.take(ip, cost)
        if wait:
            return wait
        wait = self.by_key.take(key, cost)
        if wait:
            self.by_ip.give_back(ip, cost)
        return wait
