"""Group commit: events from concurrent requests written in one transaction by one writer thread.

A request's events are handed to the writer and the request waits for the commit, so a 2xx
still means "committed" (SPEC section 8); many small requests share one commit, which keeps
SQLite's single writer busy on rows, not on transaction overhead. While requests keep coming
the writer keeps its database connection (no pool checkout and ping per group); it hands it back
after IDLE_SECONDS without work, or at once when the database fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from closedloop.capture import service
from closedloop.capture.events import CaptureEvent, FieldError
from closedloop.clock import Clock, system_clock
from closedloop.db import unit_of_work
from closedloop.errors import StoreUnavailable, store_unavailable

log = logging.getLogger(__name__)
MAX_GROUP_EVENTS = 5000
RULES_TTL = 10.0
IDLE_SECONDS = 1.0


@dataclass(slots=True)
class Job:
    """One request's share of a group: its valid events and its rejected ones (to quarantine)."""

    site_id: int | None
    events: Sequence[CaptureEvent]
    rejected: Sequence[tuple[int, dict[str, Any], list[FieldError]]] = ()
    received_at: datetime | None = None
    # The waiting request's future and its event loop (set by GroupWriter.write).
    waiter: asyncio.Future[list[bool]] | None = None
    loop: asyncio.AbstractEventLoop | None = None


def write_jobs(
    session: Session, jobs: Sequence[Job], clock: Clock, rules: service.Rules | None = None
) -> list[list[bool]]:
    """Write several jobs in the caller's transaction; per job, True for each event inserted."""
    items = [service.Incoming(job.site_id, e) for job in jobs if job.site_id is not None for e in job.events]
    flags = service.record_events(session=session, items=items, clock=clock, rules=rules)
    results: list[list[bool]] = []
    position = 0
    for job in jobs:
        if job.rejected:
            service.quarantine_rejected(
                session=session,
                site_id=job.site_id,
                rejected=job.rejected,
                received_at=job.received_at or clock(),
                clock=clock,
            )
        count = len(job.events) if job.site_id is not None else 0
        results.append(flags[position : position + count])
        position += count
    return results


class GroupWriter:
    """A daemon thread draining a queue of jobs, committing each group before answering its requests."""

    def __init__(self, factory: sessionmaker[Session], *, clock: Clock = system_clock) -> None:
        self._factory = factory
        self._clock = clock
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._rules: tuple[float, service.Rules] | None = None
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()

    async def write(self, job: Job) -> list[bool]:
        """Queue the job and wait until its group is committed."""
        job.loop = asyncio.get_running_loop()
        job.waiter = job.loop.create_future()
        self._queue.put(job)
        return await job.waiter

    def _run(self) -> None:
        while True:
            first = self._queue.get()  # idle: no connection held
            try:
                self._busy_spell(first)
            except Exception:  # never let the writer die: every later request would hang
                log.exception("capture writer: unexpected error")

    def _busy_spell(self, first: Job) -> None:
        """Write groups on one connection until the queue stays empty for IDLE_SECONDS."""
        group = self._group(first)
        try:
            connection = self._factory.kw["bind"].connect()  # checked out (and pinged) once a spell
        except Exception as exc:
            _refuse(group, exc)
            return
        with connection:
            while self._commit(connection, group):
                try:
                    job = self._queue.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    return
                group = self._group(job)

    def _group(self, first: Job) -> list[Job]:
        """The first job and those queued behind it, up to MAX_GROUP_EVENTS events."""
        group = [first]
        size = len(first.events)
        while size < MAX_GROUP_EVENTS:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            group.append(job)
            size += len(job.events)
        return group

    def _rules_for(self, session: Session) -> service.Rules:
        # The channel rules are re-read every RULES_TTL seconds: an approved change applies within that.
        now = time.monotonic()
        if self._rules is None or self._rules[0] < now:
            self._rules = (now + RULES_TTL, service.rules_in_force(session=session, at=self._clock()))
        return self._rules[1]

    def _commit(self, connection: Connection, group: list[Job]) -> bool:
        """Write and commit the group, then answer its requests; False when the database failed."""
        try:
            with unit_of_work(functools.partial(self._factory, bind=connection)) as session:
                results = write_jobs(session, group, self._clock, self._rules_for(session))
        except Exception as exc:
            if store_unavailable(exc):
                connection.invalidate()  # the next spell's checkout pings a fresh one
                _refuse(group, exc)
                return False
            if len(group) == 1:
                _refuse(group, exc)
                return True
            # One bad job must not fail its neighbours: retry each alone.
            return all([self._commit(connection, [job]) for job in group])
        _answer([(job, result, None) for job, result in zip(group, results, strict=True)])
        return True


Answer = tuple[Job, "list[bool] | None", "BaseException | None"]


def _refuse(group: list[Job], exc: BaseException) -> None:
    """Answer every job of a failed group: 503 when the database is down, else a server error."""
    if store_unavailable(exc):
        # The database is down or restarting: every job fails alike, so answer them all (503,
        # Retry-After) rather than retrying each alone.
        log.warning("capture writer: database unavailable, %d requests refused: %s", len(group),
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)  # fmt: skip
        _answer([(job, None, StoreUnavailable(str(exc))) for job in group])
        return
    log.error("capture write failed", exc_info=exc)
    _answer([(job, None, RuntimeError("capture write failed")) for job in group])


def _answer(answers: list[Answer]) -> None:
    """Wake the waiting requests: one thread-safe call per event loop for the whole group."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Answer]] = {}
    for answer in answers:
        loop = answer[0].loop
        if loop is not None:
            by_loop.setdefault(loop, []).append(answer)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, items)


def _settle(answers: list[Answer]) -> None:
    """In the request's loop: answer each waiting request; one that went away (cancelled) is skipped."""
    for job, result, exception in answers:
        waiter = job.waiter
        if waiter is None or waiter.done():
            continue
        if exception is not None:
            waiter.set_exception(exception)
        else:
            waiter.set_result(result or [])
