"""Store-level commands: init, serve."""

from __future__ import annotations

import click

from closedloop.cli.common import settings
from closedloop.i18n import translate


@click.command()
def init() -> None:
    """Create or upgrade the schema of the store (CLOSEDLOOP_DATABASE_URL)."""
    from closedloop.migrations.guard import UpgradePolicy
    from closedloop.store import engine_for, upgrade

    url = settings().database_url
    upgrade(engine_for(url), policy=UpgradePolicy(lock_timeout=settings().migration_lock_timeout))
    click.echo(translate("cli.init.done", url=_redacted(url)))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes behind the one port (more than 1 needs PostgreSQL).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log one line per request (about 0.5 ms each; a proxy in front usually logs them already).",
)
def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Run the web app and the API (a secret key is required)."""
    settings().require_secret()
    settings().scrape_token()
    if workers > 1 and settings().is_sqlite:
        from closedloop.errors import ConfigurationError

        raise ConfigurationError(translate("operations.serve.workers_need_postgres"))
    run_server(host=host, port=port, workers=workers, access_log=access_log)


def run_server(
    *, host: str, port: int, workers: int = 1, demo: bool = False, access_log: bool = True
) -> None:
    """Serve the app with uvicorn; the app factory reads the settings in each worker.

    Several workers share one listening socket (uvicorn's supervisor restarts a worker that
    dies). Their Prometheus counters meet in PROMETHEUS_MULTIPROC_DIR, created here when unset.
    Logs are JSON lines (CLOSEDLOOP_LOG_FORMAT=text for plain ones) and uvicorn's access log,
    which prints client addresses, is replaced by closedloop's own request log.
    """
    import os

    import uvicorn

    from closedloop.observability import logs

    if demo:
        os.environ["CLOSEDLOOP_DEMO_MODE"] = "1"
    if not access_log:
        os.environ["CLOSEDLOOP_LOG_REQUESTS"] = "false"  # read by each worker's settings
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="closedloop-metrics-")
    from closedloop.config import get_settings

    get_settings.cache_clear()  # the environment changed above; one worker runs in this process
    config = settings()
    uvicorn.run(
        "closedloop.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        access_log=False,
        log_config=logs.config(config.log_level, json_lines=config.log_format != "text"),
    )


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
