"""Group commit: events from concurrent requests written in one transaction by one writer thread.

A request's events are handed to the writer and the request waits for the commit, so a 2xx
still means "committed" (SPEC section 8); many small requests share one commit, which keeps
SQLite's single writer busy on rows, not on transaction overhead.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from closedloop.capture import service
from closedloop.capture.events import CaptureEvent, FieldError
from closedloop.clock import Clock, system_clock
from closedloop.db import unit_of_work

log = logging.getLogger(__name__)
MAX_GROUP_EVENTS = 5000
RULES_TTL = 10.0


@dataclass(slots=True)
class Job:
    """One request's share of a group: its valid events and its rejected ones (to quarantine)."""

    site_id: int | None
    events: Sequence[CaptureEvent]
    rejected: Sequence[tuple[int, dict[str, Any], list[FieldError]]] = ()
    received_at: datetime | None = None
    future: Future[list[bool]] = field(default_factory=Future)


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
        self._queue.put(job)
        return await asyncio.wrap_future(job.future)

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            size = len(group[0].events)
            while size < MAX_GROUP_EVENTS:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                group.append(job)
                size += len(job.events)
            try:
                self._commit(group)
            except Exception:  # never let the writer die: every later request would hang
                log.exception("capture writer: unexpected error")
                for job in group:
                    _settle(job.future, exception=RuntimeError("capture write failed"))

    def _rules_for(self, session: Session) -> service.Rules:
        # The channel rules are re-read every RULES_TTL seconds: an approved change applies within that.
        now = time.monotonic()
        if self._rules is None or self._rules[0] < now:
            self._rules = (now + RULES_TTL, service.rules_in_force(session=session, at=self._clock()))
        return self._rules[1]

    def _commit(self, group: list[Job]) -> None:
        try:
            with unit_of_work(self._factory) as session:
                results = write_jobs(session, group, self._clock, self._rules_for(session))
        except Exception:
            if len(group) == 1:
                log.exception("capture write failed")
                _settle(group[0].future, exception=RuntimeError("capture write failed"))
                return
            # One bad job must not fail its neighbours: retry each alone.
            for job in group:
                self._commit([job])
            return
        for job, result in zip(group, results, strict=True):
            _settle(job.future, result=result)


def _settle(
    future: Future[list[bool]], *, result: list[bool] | None = None, exception: BaseException | None = None
) -> None:
    """Answer a waiting request; one that went away (cancelled future) is skipped, its events stay written."""
    if future.done():
        return
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result or [])
    except InvalidStateError:  # cancelled between the check and the answer
        pass
