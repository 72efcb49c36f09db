"""Load the demo business into a store: generate, bulk-insert, audit, in one job."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.demo import reference
from closedloop.demo.generator import DemoData, generate, period
from closedloop.demo.loader import Timing, lead_count, load, prepare_store
from closedloop.errors import Conflict
from closedloop.i18n import translate
from closedloop.users.actor import system_actor
from closedloop.users.passwords import hash_password


@dataclass
class DemoLoaded:
    """What was loaded, how long it took, and how to sign in."""

    counts: dict[str, int]
    timings: list[Timing]
    generate_seconds: float
    seconds: float
    logins: dict[str, str]
    password: str


def load_demo(
    *,
    engine: Engine,
    leads: int,
    seed: int,
    anchor: date,
    replace: bool = False,
    progress: bool = False,
    clock: Clock = system_clock,
) -> DemoLoaded:
    """Generate the demo (same leads, seed and anchor: same rows) and load it as one audited job."""
    started = time.perf_counter()
    prepare_store(engine)
    if not replace:
        with engine.connect() as conn:
            if lead_count(conn):
                raise Conflict(translate("demo.error.already_loaded"))
    password_hash = hash_password(reference.DEMO_PASSWORD)  # argon2 is slow: once for every user
    data: DemoData = generate(leads=leads, seed=seed, anchor=anchor, password_hash=password_hash)
    generated = time.perf_counter() - started
    counts = {t.name: len(t) for t in data.tables}
    _, end_ts = period(anchor)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=sum(counts.values()),
            unit="rows",
            unit_scale=True,
            file=sys.stderr,
            desc=translate("demo.loading"),
        )

    def on_rows(table: str, count: int) -> None:
        if bar is not None:
            bar.set_postfix_str(table, refresh=False)
            bar.update(count)

    def audit(session: Session, timings: list[Timing]) -> None:
        audit_service.record(
            session,
            actor=system_actor("demo"),
            action="demo.loaded",
            entity_type="workspace",
            entity_id=1,
            after={
                "leads": leads,
                "seed": seed,
                "anchor": anchor.isoformat(),
                "replace": replace,
                "period_start": data.start.isoformat(),
                "period_end": data.end.isoformat(),
                "rows": {t.table: t.rows for t in timings},
            },
            clock=clock,
        )

    try:
        timings = load(
            engine, data.tables, data.updates, replace=replace, end_ts=end_ts, audit=audit, on_rows=on_rows
        )
    finally:
        if bar is not None:
            bar.close()
    return DemoLoaded(
        counts, timings, generated, time.perf_counter() - started, data.logins, reference.DEMO_PASSWORD
    )
