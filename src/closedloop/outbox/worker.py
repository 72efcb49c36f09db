"""The outbox worker: claims due messages under a lease, fans them out, sends, retries, gives up.

At-least-once: a message leaves `pending` only after every destination answered, and a claim
is a lease (claimed_until), so a worker killed mid-send leaves messages that another worker
(or the same one restarted) takes again once the lease runs out. Each destination's delivery
is its own row, so a retry skips destinations already done, and it carries the same key.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from closedloop.clock import Clock, system_clock
from closedloop.db import unit_of_work
from closedloop.errors import ConfigurationError, store_unavailable
from closedloop.notifications import channels, urlsafety
from closedloop.notifications import facts as facts_module
from closedloop.notifications import service as notify_service
from closedloop.notifications.channels.base import Destination, Envelope
from closedloop.notifications.crypto import SecretBox
from closedloop.notifications.models import DeliveryAttempt, NotificationChannel, NotificationDelivery
from closedloop.notifications.render import Notice, canonical_topic, render
from closedloop.observability import metrics
from closedloop.outbox.jobs import ScheduledJob, default_jobs
from closedloop.outbox.models import OutboxMessage

__all__ = ["RetryPolicy", "RunStats", "ScheduledJob", "Worker", "WorkerSettings", "default_jobs"]
log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, and when to give up."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        """Wait after failed attempt `attempt` (1-based): half of base*2^(n-1) fixed, half random."""
        step: timedelta = min(self.cap, self.base * (2 ** (attempt - 1)))
        return step / 2 + (step / 2) * rng.random()


@dataclass(frozen=True)
class WorkerSettings:
    """How much a worker claims at once, how long its lease lasts, how it retries."""

    batch_size: int = 10
    lease: timedelta = timedelta(seconds=60)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    http_timeout: float = 10.0


@dataclass
class RunStats:
    """What a run did."""

    messages: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    attempt: int
    notice: Notice
    destination: Destination
    envelope: Envelope
    problem: str | None = None


def default_worker_id() -> str:
    """host:pid:random, so two workers never share an id."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _redact(text: str, destination: Destination) -> str:
    """An error message without the channel's secret or URL (URLs carry tokens)."""
    for secret in (destination.secret, destination.url):
        if secret:
            text = text.replace(secret, "***")
    if destination.url:
        path = destination.url.split("://", 1)[-1].partition("/")[2]
        if path:
            text = text.replace(path, "***")
    return text[:MAX_ERROR_CHARS]


class Worker:
    """Delivers outbox messages to their subscribed destinations."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        secret_key: str,
        clock: Clock = system_clock,
        settings: WorkerSettings | None = None,
        rng: random.Random | None = None,
        worker_id: str | None = None,
        resolver: urlsafety.Resolver = urlsafety.system_resolver,
    ) -> None:
        self.session_factory = session_factory
        self.box = SecretBox(secret_key)
        self.clock = clock
        self.settings = settings or WorkerSettings()
        self.rng = rng or random.Random()
        self.worker_id = worker_id or default_worker_id()
        self.resolver = resolver
        self._renewed_at = 0.0

    def claim(self) -> list[int]:
        """Lease up to batch_size due messages (SKIP LOCKED on PostgreSQL; one atomic UPDATE on SQLite)."""
        now = self.clock()
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
            )
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(self.settings.batch_size)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(claimed_by=self.worker_id, claimed_until=now + self.settings.lease)
            .returning(OutboxMessage.id)
        )
        with unit_of_work(self.session_factory) as session:
            ids = list(session.scalars(claim, execution_options={"synchronize_session": False}))
        return sorted(ids)

    def _renew(self, session: Session, message_id: int) -> bool:
        """Extend this worker's lease; False if the message is no longer ours to send."""
        self._renewed_at = time.monotonic()
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.claimed_by == self.worker_id,
                OutboxMessage.status == "pending",
            )
            .values(claimed_until=self.clock() + self.settings.lease),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(result, "rowcount", 0))

    def _prepare(self, message_id: int) -> list[_Job] | None:
        """Fan the message out (first time only) and build what is still to send; None if not ours."""
        with unit_of_work(self.session_factory) as session:
            if not self._renew(session, message_id):
                return None
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            deliveries = notify_service.fan_out(session=session, message=message, clock=self.clock)
            todo = [d for d in deliveries if d.status == "pending"]
            if not todo:
                return []
            topic = canonical_topic(message.topic)
            assert topic is not None
            event_facts = facts_module.gather(session, message.payload)
            notices: dict[str, Notice] = {}
            jobs = []
            for delivery in todo:
                channel = session.get(NotificationChannel, delivery.channel_id)
                assert channel is not None
                if delivery.language not in notices:
                    notices[delivery.language] = render(topic, event_facts, delivery.language)
                # A channel that cannot be used now fails this delivery (retried, then dead), not the worker.
                problem = None if channel.is_active else "the channel is disabled"
                try:
                    url = self.box.decrypt(channel.url_encrypted)
                    secret = self.box.decrypt(channel.secret_encrypted)
                except ConfigurationError as exc:
                    url, secret, problem = None, None, str(exc)
                destination = Destination(
                    kind=channel.kind,
                    url=url,
                    secret=secret,
                    config=dict(channel.config),
                    recipient=delivery.recipient,
                )
                envelope = Envelope(
                    delivery_key=delivery.delivery_key,
                    event_key=message.idempotency_key,
                    topic=message.topic,
                    payload=dict(message.payload),
                    created_at=message.created_at,
                )
                notice = notices[delivery.language]
                jobs.append(_Job(delivery.id, delivery.attempts + 1, notice, destination, envelope, problem))
            return jobs

    def _send(self, job: _Job, allowed: list[str], message_id: int) -> tuple[str | None, float | None]:
        """Send one delivery and record the attempt; the error (redacted) or None, and any Retry-After."""
        started = self.clock()
        status_code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            if job.problem is not None:
                raise channels.DeliveryFailed(job.problem)
            status_code = channels.deliver(
                job.notice,
                job.destination,
                job.envelope,
                now=started,
                allowed_prefixes=allowed,
                timeout=self.settings.http_timeout,
                resolver=self.resolver,
            )
        except Exception as exc:  # every failure is retried; none may stop the worker
            status_code = getattr(exc, "status_code", None)
            retry_after = getattr(exc, "retry_after", None)
            error = _redact(f"{type(exc).__name__}: {exc}", job.destination)
        finished = self.clock()
        with unit_of_work(self.session_factory) as session:
            delivery = session.get(NotificationDelivery, job.delivery_id)
            assert delivery is not None
            session.add(
                DeliveryAttempt(
                    delivery_id=job.delivery_id,
                    attempt=job.attempt,
                    worker=self.worker_id,
                    started_at=started,
                    finished_at=finished,
                    ok=error is None,
                    status_code=status_code,
                    error=error,
                )
            )
            delivery.attempts = job.attempt
            delivery.last_attempt_at = finished
            if error is None:
                delivery.status, delivery.delivered_at, delivery.last_error = "delivered", finished, None
            else:
                delivery.last_error = error
            # Renewed once half the lease has passed: enough to keep it, without a write per send.
            if time.monotonic() - self._renewed_at > self.settings.lease.total_seconds() / 2:
                self._renew(session, message_id)
        if error is None:
            log.info("delivered %s via %s", job.envelope.delivery_key, job.destination.kind)
        else:
            log.warning(
                "delivery %s via %s failed: %s", job.envelope.delivery_key, job.destination.kind, error
            )
        return error, retry_after

    def _finish(self, message_id: int, stats: RunStats, retry_after: float | None = None) -> None:
        """Delivered when every destination is; otherwise back off, or dead after max_attempts."""
        with unit_of_work(self.session_factory) as session:
            message = session.get(OutboxMessage, message_id)
            if message is None or message.claimed_by != self.worker_id or message.status != "pending":
                return
            deliveries = list(
                session.scalars(
                    select(NotificationDelivery).where(NotificationDelivery.message_id == message_id)
                )
            )
            failing = [d for d in deliveries if d.status == "pending"]
            now = self.clock()
            message.claimed_by, message.claimed_until = None, None
            if not failing:
                message.status, message.delivered_at, message.last_error = "delivered", now, None
                return
            message.attempts += 1
            names = {c.id: c.name for c in session.scalars(select(NotificationChannel))}
            message.last_error = "; ".join(
                f"{names.get(d.channel_id, d.channel_id)}{' ' + d.recipient if d.recipient else ''}: {d.last_error}"
                for d in failing
            )[: MAX_ERROR_CHARS * 2]
            if message.attempts >= self.settings.retry.max_attempts:
                message.status = "dead"
                for delivery in failing:
                    delivery.status = "dead"
                stats.dead += 1
                log.error("outbox message %s is dead after %s attempts", message_id, message.attempts)
            else:
                delay = self.settings.retry.delay(message.attempts, self.rng)
                if retry_after is not None:  # the receiver's own Retry-After, within our cap
                    delay = max(delay, min(timedelta(seconds=retry_after), self.settings.retry.cap))
                message.available_at = now + delay

    def process(self, message_id: int, stats: RunStats | None = None) -> None:
        """Deliver one claimed message to every destination not yet done."""
        stats = stats if stats is not None else RunStats()
        jobs = self._prepare(message_id)
        if jobs is None:
            return
        stats.messages += 1
        waits: list[float] = []
        if jobs:
            with self.session_factory() as session:
                allowed = notify_service.allowed_prefixes(session)
            for job in jobs:
                error, retry_after = self._send(job, allowed, message_id)
                if error is None:
                    stats.sent += 1
                else:
                    stats.failed += 1
                if retry_after is not None:
                    waits.append(retry_after)
        self._finish(message_id, stats, max(waits) if waits else None)

    def drain(self, *, should_stop: Callable[[], bool] = lambda: False) -> RunStats:
        """Process every message due now, batch by batch, until none is left (or told to stop)."""
        stats = RunStats()
        while not should_stop():
            claimed = self.claim()
            if not claimed:
                break
            for position, message_id in enumerate(claimed):
                if should_stop():
                    self.release(claimed[position:])
                    break
                try:
                    self.process(message_id, stats)
                except Exception:  # a bug or a lost database: the lease runs out and it is retried
                    log.exception("outbox message %s could not be processed", message_id)
        return stats

    def release(self, message_ids: list[int]) -> None:
        """Give back claims this worker will not work on, so others need not wait for the lease."""
        with unit_of_work(self.session_factory) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(message_ids), OutboxMessage.claimed_by == self.worker_id)
                .values(claimed_by=None, claimed_until=None),
                execution_options={"synchronize_session": False},
            )

    def run_jobs(self, jobs: list[ScheduledJob]) -> None:
        """Run each scheduled job that is due; a failing job is logged and tried at its next turn."""
        for job in jobs:
            now = time.monotonic()
            if job.last_run is not None and now - job.last_run < job.every.total_seconds():
                continue
            job.last_run = now
            try:
                with unit_of_work(self.session_factory) as session:
                    result = job.run(session, self.clock)
                log.info("scheduled job %s done: %s", job.name, result if isinstance(result, int) else "ok")
                metrics.record_job(job.name, ok=True)
            except Exception:
                log.exception("scheduled job %s failed", job.name)
                metrics.record_job(job.name, ok=False)

    def run(
        self,
        *,
        once: bool = False,
        max_seconds: float | None = None,
        poll_interval: float = 2.0,
        stop: threading.Event | None = None,
        jobs: list[ScheduledJob] | None = None,
    ) -> RunStats:
        """Drain, then poll until `max_seconds` pass or `stop` is set (or after one drain with `once`).

        A stop request lets the message in hand finish; a kill is safe too, only slower to recover.
        """
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        stop = stop or threading.Event()

        def should_stop() -> bool:
            return stop.is_set() or (deadline is not None and time.monotonic() >= deadline)

        total = RunStats()
        while True:
            self.run_jobs(jobs or [])
            try:
                stats = self.drain(should_stop=should_stop)
            except Exception as exc:
                if once or not store_unavailable(exc):
                    raise
                # The database is down or restarting: wait and try again; the pool reconnects by itself.
                log.warning("outbox worker: database unavailable, retrying: %s", str(exc).splitlines()[0])
                stats = RunStats()
            metrics.record_drain(stats)
            for name in ("messages", "sent", "failed", "dead"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            if once or should_stop():
                return total
            remaining = poll_interval if deadline is None else deadline - time.monotonic()
            stop.wait(max(0.0, min(poll_interval, remaining)))
