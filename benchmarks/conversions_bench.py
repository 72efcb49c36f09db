"""Conversion export for the ad platforms: one set-based statement against a per-conversion ORM peer.

On a demo store (`closedloop demo --leads N`), gathers a year of SQL, opportunity and won conversions
with each one's latest gclid and fbclid at or before it (`integrations.conversions.conversions`), then
shapes them as the Google Ads file and the Meta dry run. The peer reads the same conversions and looks
up each conversion's click ids with its own ORM query (what a straightforward exporter does). Both
must find the same click ids; the ratio is the peer's median over ours, in the same run.

Usage: python benchmarks/conversions_bench.py [--leads N] [--runs R] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def machine() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return (
        f"{platform.machine()} {len(os.sched_getaffinity(0))} cpus, load {os.getloadavg()[0]:.1f}, "
        f"Python {platform.python_version()}, commit {commit.stdout.strip()}"
    )


def peer(session, found):  # type: ignore[no-untyped-def]
    """Per-conversion lookups: the latest gclid and fbclid touch of the lead at or before the conversion."""
    from sqlalchemy import select

    from closedloop.marketing.models import Touchpoint

    out = []
    for c in found:
        clicks = []
        for column in (Touchpoint.gclid, Touchpoint.fbclid):
            clicks.append(session.scalar(
                select(column).where(Touchpoint.lead_id == c.lead_id, column.is_not(None), column != "",
                                     Touchpoint.occurred_at <= c.occurred_at)
                .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(1)))  # fmt: skip
        out.append(tuple(clicks))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="an existing demo store (default: a fresh SQLite demo)")
    args = parser.parse_args()
    from closedloop.integrations import conversions
    from closedloop.store import engine_for, session_factory_for, upgrade
    from closedloop.users.actor import system_actor

    anchor = date(2026, 11, 30)
    url = args.url
    if url is None:
        from closedloop.demo.service import load_demo

        url = f"sqlite:///{tempfile.mkdtemp()}/conversions.db"
        upgrade(engine_for(url))
        load_demo(engine=engine_for(url), leads=args.leads, seed=7, anchor=anchor)
    factory = session_factory_for(url)
    actor = system_actor("cli")
    period = {"date_from": anchor - timedelta(days=364), "date_to": anchor}
    ours, theirs = [], []
    with factory() as session:
        for _ in range(args.runs):
            started = time.perf_counter()
            found = conversions.conversions(session, actor=actor, **period)
            conversions.google_ads_csv(found, time_zone="Asia/Taipei")
            conversions.meta_requests(found, pixel_id="1234567890", now=datetime(2026, 12, 1, tzinfo=UTC))
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            clicks = peer(session, found)
            theirs.append(time.perf_counter() - started)
    assert clicks == [(c.gclid, c.fbclid) for c in found], "the peer found other click ids"
    with_gclid = sum(1 for c in found if c.gclid)
    print(machine())
    print(f"store {url.split(':')[0]}, {args.leads} demo leads, {len(found)} conversions in a year, "
          f"{with_gclid} with a gclid, {sum(1 for c in found if c.fbclid)} with an fbclid")  # fmt: skip
    print(
        f"closedloop (one statement + shaping): median {statistics.median(ours):.3f} s over {args.runs} runs"
    )
    print(f"peer (per-conversion ORM lookups, no shaping): median {statistics.median(theirs):.3f} s")
    print(f"ratio peer/closedloop: {statistics.median(theirs) / statistics.median(ours):.1f}x")


if __name__ == "__main__":
    main()
