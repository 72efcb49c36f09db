"""Rate-limit buckets shared through a memory-mapped file: two processes see one bucket per key."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from closedloop.capture.ratelimit import RateLimiter, SharedTokenBuckets, limits_path


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_two_tables_on_one_file_share_the_buckets(tmp_path: Path) -> None:
    clock = FakeTime()
    first = SharedTokenBuckets(tmp_path / "limits", rate=10, burst=20, monotonic=clock)
    second = SharedTokenBuckets(tmp_path / "limits", rate=10, burst=20, monotonic=clock)
    assert first.take("k", 15) == 0.0
    assert second.take("k", 5) == 0.0  # the other process sees 5 left
    assert second.take("k", 1) == pytest.approx(0.1)
    assert first.take("k", 1) == pytest.approx(0.1)
    clock.now += 0.5  # five tokens back, for both
    assert first.take("k", 5) == 0.0
    assert second.take("k", 2) == pytest.approx(0.2)
    assert second.take("other", 20) == 0.0  # keys do not share
    first.give_back("k", 3)
    assert second.take("k", 3) == 0.0


def test_a_full_probe_window_evicts_the_stalest_bucket(tmp_path: Path) -> None:
    clock = FakeTime()
    table = SharedTokenBuckets(tmp_path / "tiny", rate=1, burst=2, slots=4, monotonic=clock)
    for i in range(10):  # more keys than slots: each new key still starts with a full bucket
        clock.now += 1
        assert table.take(f"k{i}", 2) == 0.0
    assert table.take("k9", 1) == pytest.approx(1.0)  # the newest key's empty bucket survived


def _spend(path: str, count: int, queue: multiprocessing.Queue) -> None:
    table = SharedTokenBuckets(path, rate=0.001, burst=100)
    queue.put(sum(1 for _ in range(count) if table.take("site-key", 1) == 0.0))


def test_processes_together_never_exceed_the_burst(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = context.Queue()
    path = str(tmp_path / "limits")
    workers = [context.Process(target=_spend, args=(path, 80, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    allowed = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    # 240 attempts against one bucket of 100 tokens refilled at 0.001/s: exactly 100 pass
    # (at most one more token may refill while they run).
    assert 100 <= sum(allowed) <= 101


def test_limiter_on_shared_files_keeps_the_refund_rule(tmp_path: Path) -> None:
    limiter = RateLimiter(key_rate=1, key_burst=5, ip_rate=1, ip_burst=10, shared_path=tmp_path / "limits")
    assert limiter.check(key="k", ip="1.2.3.4", cost=5) == 0.0
    assert limiter.check(key="k", ip="1.2.3.4", cost=5) > 0  # key empty
    assert limiter.check(key="k2", ip="1.2.3.4", cost=5) == 0.0  # the IP still had its 5 tokens
    again = RateLimiter(key_rate=1, key_burst=5, ip_rate=1, ip_burst=10, shared_path=tmp_path / "limits")
    assert again.check(key="k3", ip="1.2.3.4", cost=1) > 0  # a second process sees the IP spent


def test_limits_live_next_to_a_sqlite_store_else_in_the_temporary_directory(tmp_path: Path) -> None:
    assert limits_path(f"sqlite:///{tmp_path}/s.db") == tmp_path / "s.db.capture-limits"
    pg = limits_path("postgresql+psycopg://u@h/db")
    assert pg.name.startswith("closedloop-capture-limits-") and pg != limits_path(
        "postgresql+psycopg://u@h/db2"
    )
    assert limits_path("postgresql+psycopg://u@h/db", str(tmp_path)).parent == tmp_path
