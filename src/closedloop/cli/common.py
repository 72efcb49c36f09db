"""Helpers shared by every command: the store, output formats, user errors."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from closedloop.config import Settings, get_settings
from closedloop.errors import ConfigurationError

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)


def settings() -> Settings:
    return get_settings()


def open_store(*, require_schema: bool = True) -> sessionmaker[Session]:
    """Sessions on the configured store; refuses a store that `closedloop init` has not prepared."""
    from closedloop.analytics import engine as analytics_engine
    from closedloop.store import engine_for, is_initialised, session_factory_for

    url = settings().database_url
    if analytics_engine.routed():  # `--engine spark --source DIR`: the store is not read
        return session_factory_for(url)
    if require_schema and not is_initialised(engine_for(url)):
        raise ConfigurationError(
            f"the store at {url} is not initialised or is out of date: run `closedloop init`"
        )
    return session_factory_for(url)


def echo_json(data: Any) -> None:
    """Print JSON that never holds NaN or Infinity (SPEC section 7)."""
    click.echo(json.dumps(data, ensure_ascii=False, allow_nan=False, default=str))
