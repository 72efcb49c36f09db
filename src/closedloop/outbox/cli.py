"""`closedloop worker`: deliver the outbox (and show what is stuck)."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta

import click

from closedloop.cli.common import FORMAT_OPTION, echo_json, open_store, settings


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver everything due now, then exit.")
@click.option("--max-seconds", type=float, default=None, help="Stop after this many seconds.")
@click.option("--poll-interval", type=float, default=2.0, show_default=True, help="Seconds between polls.")
@click.option("--batch-size", type=click.IntRange(1, 500), default=10, show_default=True)
@click.option("--lease-seconds", type=float, default=60.0, show_default=True, help="How long a claim lasts.")
@click.option("--max-attempts", type=click.IntRange(1, 100), default=8, show_default=True)
@click.option("--backoff-seconds", type=float, default=30.0, show_default=True, help="First retry delay.")
@click.option("--max-backoff-seconds", type=float, default=3600.0, show_default=True)
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Per-request timeout.")
@click.option(
    "--breaches-every", type=float, default=60.0, show_default=True, help="Seconds between SLA breach checks."
)
@click.option(
    "--rescore-every", type=float, default=3600.0, show_default=True, help="Seconds between rescoring."
)
@click.option("--no-jobs", is_flag=True, help="Only deliver the outbox; run no scheduled job.")
@click.option("--status", "show_status", is_flag=True, help="Show counts and dead messages, then exit.")
@FORMAT_OPTION
def worker(
    once: bool,
    max_seconds: float | None,
    poll_interval: float,
    batch_size: int,
    lease_seconds: float,
    max_attempts: int,
    backoff_seconds: float,
    max_backoff_seconds: float,
    timeout: float,
    breaches_every: float,
    rescore_every: float,
    no_jobs: bool,
    show_status: bool,
    output_format: str,
) -> None:
    """Deliver outbox messages to their subscribed channels, with retries, and run the scheduled jobs."""
    from closedloop.i18n import translate
    from closedloop.notifications import deadletters
    from closedloop.outbox import worker as outbox_worker

    factory = open_store()
    if show_status:
        with factory() as session:
            report = deadletters.status(session)
        if output_format == "json":
            echo_json(report)
            return
        click.echo(" ".join(f"{k}={v}" for k, v in report["counts"].items()))
        for item in report["dead"]:
            click.echo(f"dead {item['id']} {item['topic']} attempts={item['attempts']}: {item['last_error']}")
        return
    logging.basicConfig(level=settings().log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    runner = outbox_worker.Worker(
        session_factory=factory,
        secret_key=settings().require_secret(),
        settings=outbox_worker.WorkerSettings(
            batch_size=batch_size,
            lease=timedelta(seconds=lease_seconds),
            retry=outbox_worker.RetryPolicy(
                max_attempts=max_attempts,
                base=timedelta(seconds=backoff_seconds),
                cap=timedelta(seconds=max_backoff_seconds),
            ),
            http_timeout=timeout,
        ),
    )
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    jobs = (
        []
        if no_jobs
        else outbox_worker.default_jobs(
            breaches_every=timedelta(seconds=breaches_every), rescore_every=timedelta(seconds=rescore_every)
        )
    )
    try:
        stats = runner.run(
            once=once, max_seconds=max_seconds, poll_interval=poll_interval, stop=stop, jobs=jobs
        )
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    summary = {
        "worker": runner.worker_id,
        "messages": stats.messages,
        "sent": stats.sent,
        "failed": stats.failed,
        "dead": stats.dead,
    }
    if output_format == "json":
        echo_json(summary)
    else:
        click.echo(
            translate(
                "notifications.cli.worker_done",
                worker=runner.worker_id,
                messages=stats.messages,
                sent=stats.sent,
                failed=stats.failed,
            )
        )
