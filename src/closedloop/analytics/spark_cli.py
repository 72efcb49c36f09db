"""`funnel`, `metrics` and `attribution` with `--engine duckdb|spark --source DIR` (analytics/spark.py)."""

from __future__ import annotations

from closedloop.analytics import cli as _analytics_cli
from closedloop.analytics.spark import with_engine_options
from closedloop.attribution import cli as _attribution_cli

funnel = with_engine_options(_analytics_cli.funnel)
metrics = with_engine_options(_analytics_cli.metrics)
attribution = with_engine_options(_attribution_cli.attribution)
