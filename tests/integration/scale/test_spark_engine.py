"""`--engine spark`: the same funnel, metrics and attribution on a local Spark as on DuckDB.

One demo store (300 leads, two years, several currencies) is exported to Parquet once; one
Spark session serves the whole module (it takes seconds to start). Every answer from Spark is
compared with DuckDB's on the store: counts, groups and money exactly, floating-point sums and
means to 1e-12 relative (Spark adds in another order).
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from closedloop.analytics import api, engine
from closedloop.analytics.declarations import METRICS as DECLARED
from closedloop.attribution.journeys import build_journeys
from closedloop.attribution.service import MODELS, attribute
from closedloop.config import get_settings
from closedloop.datamove.parquet import export_parquet
from closedloop.db import make_engine

pyspark = pytest.importorskip("pyspark")
AS_OF = "2026-06-30"
PERIOD = {"date_from": "2025-07-01", "date_to": "2026-06-30", "as_of": AS_OF}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> dict[str, Any]:
    from closedloop.analytics import spark
    from closedloop.demo.service import load_demo

    if shutil.which("java") is None:
        pytest.fail("Java 17 is missing (Debian package openjdk-17-jre-headless)")
    folder = tmp_path_factory.mktemp("spark")
    path = folder / "demo.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    store_engine = make_engine(url)
    load_demo(engine=store_engine, leads=300, seed=7, anchor=date(2026, 6, 30))
    store_engine.dispose()
    export_parquet(url, folder / "parquet")
    source = spark.SparkSource(folder / "parquet", spark=spark.session("local[2]", "closedloop-tests"))
    yield {"url": url, "source": source, "parquet": folder / "parquet"}
    engine.close(url)
    source.spark.stop()


def same(duck: Any, other: Any, where: str = "") -> None:
    """Equal, floats to 1e-12 relative; names the first difference."""
    if isinstance(duck, float) and isinstance(other, float | int):
        assert other == pytest.approx(duck, rel=1e-12, abs=1e-12), where
    elif isinstance(duck, dict):
        assert isinstance(other, dict) and duck.keys() == other.keys(), where
        for key in duck:
            same(duck[key], other[key], f"{where}.{key}")
    elif isinstance(duck, list):
        assert isinstance(other, list) and len(duck) == len(other), where
        for i, (a, b) in enumerate(zip(duck, other, strict=True)):
            same(a, b, f"{where}[{i}]")
    else:
        assert duck == other, where


def both(demo: dict[str, Any], run: Any) -> tuple[Any, Any]:
    duck = run()
    with engine.using(demo["source"]):
        on_spark = run()
    return duck, on_spark


def test_funnel_by_channel_is_the_same_on_spark(demo) -> None:
    duck, on_spark = both(demo, lambda: api.funnel(demo["url"], by=("channel",), **PERIOD))
    assert sum(r["counts"]["lead"] for r in duck["rows"]) > 50  # the demo fills the funnel
    same(duck, on_spark, "funnel")


def test_iso_weeks_and_local_time_match_duckdb(demo) -> None:
    """strftime('%G-W%V') (cohort weeks) and timezone() have no Spark spelling: checked directly."""
    sql = (
        "SELECT strftime(timezone('Asia/Taipei', CAST(ts AS TIMESTAMPTZ)), '%G-W%V') AS week,"
        " timezone('Asia/Taipei', CAST(ts AS TIMESTAMPTZ)) AS local_ts FROM (VALUES"
        " (TIMESTAMP '2020-12-31 16:30:00'), (TIMESTAMP '2021-01-03 15:59:59'), (TIMESTAMP '2024-12-29 16:00:00'))"
        " AS t(ts) ORDER BY ts"
    )
    duck = engine.rows(demo["url"], sql)
    assert [r["week"] for r in duck] == ["2020-W53", "2020-W53", "2025-W01"]  # ISO years, Taipei days
    with engine.using(demo["source"]):
        assert engine.rows(demo["url"], sql) == duck


def test_every_declared_metric_is_the_same_on_spark(demo) -> None:
    """Every metric of SPEC section 5 (lead, deal, spend with exchange rates read by DuckDB's
    ASOF join, hand-off, revenue and goal metrics), overall and by the first dimension it allows."""
    names = list(DECLARED)
    duck, on_spark = both(
        demo, lambda: api.metrics(demo["url"], names, from_stage="mql", to_stage="sql", **PERIOD)
    )
    assert {r["metric"] for r in duck["results"]} == set(names)
    same(duck, on_spark, "metrics")
    by_dimension: dict[str, list[str]] = {}
    for metric in DECLARED.values():
        if metric.dimensions:
            by_dimension.setdefault(metric.dimensions[0], []).append(metric.name)
    for dimension, grouped in by_dimension.items():
        duck, on_spark = both(
            demo,
            lambda d=dimension, g=grouped: api.metrics(
                demo["url"], g, from_stage="mql", to_stage="sql", by=[d], **PERIOD
            ),
        )
        assert duck["results"], dimension
        same(duck, on_spark, f"metrics by {dimension}")


@pytest.mark.parametrize("as_of", [None, datetime(2026, 3, 31)])
def test_attribution_models_are_the_same_on_spark(demo, as_of) -> None:
    # DuckDB first: its snapshot (and kept journeys) must never answer for Spark's copy.
    duck_journeys, spark_journeys = both(
        demo, lambda: build_journeys(demo["url"], conversion="won", by="channel", as_of=as_of)
    )
    assert duck_journeys.keys == spark_journeys.keys
    assert (duck_journeys.offsets == spark_journeys.offsets).all()
    assert (duck_journeys.touches == spark_journeys.touches).all()
    same(duck_journeys.ages.tolist(), spark_journeys.ages.tolist(), "ages")
    for model in MODELS:
        duck = attribute(duck_journeys, model).as_dict()
        assert sum(c for c, _ in duck.values()) > 0
        same(duck, attribute(spark_journeys, model).as_dict(), model)


def test_cli_engine_spark_prints_what_duckdb_prints(demo, monkeypatch, capsys) -> None:
    from closedloop.cli.main import main

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", demo["url"])
    get_settings.cache_clear()
    args = ["funnel", "--by", "channel", "--from", PERIOD["date_from"], "--to", AS_OF, "--as-of", AS_OF]
    try:
        capsys.readouterr()
        main([*args, "--format", "json"])
        duck = json.loads(capsys.readouterr().out)
        # `source_for` reuses the module's session (getOrCreate) for the same directory.
        main([*args, "--format", "json", "--engine", "spark", "--source", str(demo["parquet"])])
        on_spark = json.loads(capsys.readouterr().out)
        same(duck, on_spark, "cli")
        with pytest.raises(SystemExit):
            main([*args, "--engine", "spark"])  # no --source
        assert "--source DIR" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
