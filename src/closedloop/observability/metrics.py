"""Prometheus metrics: requests and latency by route, capture outcomes, outbox and worker figures.

Counters live in the process that counts them. With several server processes (`serve
--workers N`) and the worker, set PROMETHEUS_MULTIPROC_DIR to one empty directory for all of
them (`serve --workers N` creates one when unset): prometheus_client then writes each
process's counters there and `/metrics` adds them up, whichever process answers the scrape.
Outbox figures are read from the store at scrape time, so they hold across every process.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "closedloop_http_requests_total", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "closedloop_http_request_duration_seconds", "Time to answer an HTTP request, by method and route template.",
    ["method", "route"], buckets=BUCKETS,
)  # fmt: skip
CAPTURE_EVENTS = Counter(
    "closedloop_capture_events_total",
    "Capture events by outcome: accepted, duplicate, quarantined (from /t/events answers), "
    "rejected (events of requests answered 4xx).",
    ["outcome"],
)
CAPTURE_REQUESTS_REJECTED = Counter(
    "closedloop_capture_requests_rejected_total", "Capture requests refused, by status.", ["status"]
)
WORKER_RUNS = Counter("closedloop_worker_drains_total", "Outbox drains run by the worker.")
WORKER_MESSAGES = Counter(
    "closedloop_worker_messages_total", "Outbox messages handled by the worker, by outcome.", ["outcome"]
)
WORKER_JOBS = Counter(
    "closedloop_worker_jobs_total", "Scheduled job runs, by job and outcome (ok, failed).", ["job", "outcome"]
)


def record_drain(stats: Any) -> None:
    """Count one worker drain (its RunStats: sent, failed, dead)."""
    WORKER_RUNS.inc()
    for outcome in ("sent", "failed", "dead"):
        value = int(getattr(stats, outcome, 0) or 0)
        if value:
            WORKER_MESSAGES.labels(outcome).inc(value)


def record_job(name: str, ok: bool) -> None:
    WORKER_JOBS.labels(name, "ok" if ok else "failed").inc()


class StoreCollector:
    """Outbox gauges read from the store when Prometheus scrapes."""

    def __init__(self, session_factory: Any) -> None:
        self.session_factory = session_factory

    def collect(self) -> Any:
        from sqlalchemy import func, select

        from closedloop.clock import system_clock
        from closedloop.outbox.models import OutboxMessage

        by_status = GaugeMetricFamily(
            "closedloop_outbox_messages",
            "Outbox messages by status (pending, delivered, dead).",
            labels=["status"],
        )
        oldest = GaugeMetricFamily(
            "closedloop_outbox_oldest_pending_seconds",
            "Age of the oldest pending outbox message (0 when none).",
        )
        up = GaugeMetricFamily("closedloop_store_up", "1 when the store answered the scrape's queries.")
        try:
            with self.session_factory() as session:
                counts = dict(
                    session.execute(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    ).all()
                )
                first = session.scalar(
                    select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
                )
        except Exception:  # the store is down: say so, keep the process metrics
            up.add_metric([], 0)
            yield up
            return
        for status in ("pending", "delivered", "dead"):
            by_status.add_metric([status], counts.get(status, 0))
        age = 0.0 if first is None else max(0.0, (system_clock() - first).total_seconds())
        oldest.add_metric([], age)
        up.add_metric([], 1)
        yield from (by_status, oldest, up)


def exposition(session_factory: Any) -> bytes:
    """The text exposition of every metric (all processes' counters in multiprocess mode)."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, CAPTURE_EVENTS, CAPTURE_REQUESTS_REJECTED, WORKER_RUNS,
                          WORKER_MESSAGES, WORKER_JOBS):  # fmt: skip
            registry.register(collector)
    registry.register(StoreCollector(session_factory))
    return generate_latest(registry)
