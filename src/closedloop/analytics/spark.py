"""The analytics layer on Spark: the same SQL, read from a `closedloop export parquet` directory.

`closedloop funnel|metrics|attribution --engine spark --source DIR` run the very queries the
DuckDB engine runs, so the metric and attribution definitions exist once. Each query is parsed
as DuckDB SQL by sqlglot and rewritten for Spark:

* parameters (`$name`, `?`) become typed literals;
* `store.<table>` reads a temporary view of that table's Parquet dataset (`store__<table>`); a
  table the export left empty becomes an empty view with the model's columns;
* DuckDB-only constructs get a Spark equivalent: `ASOF LEFT JOIN` (a range join on the next
  key), `timezone(tz, ts)` (`from_utc_timestamp`), `to_days(n)` (`make_dt_interval`), ISO-week `strftime`, `epoch` with
  microseconds, `quantile_cont` (`percentile`, which interpolates the same way),
  `AS MATERIALIZED` (dropped); decimal literals become DOUBLE, so `x / 86400.0` is computed
  in floating point as DuckDB does rather than in rounded DECIMAL.

Ibis's PySpark backend runs the result (`con.sql(...).to_pyarrow()`). The session runs in UTC,
like the DuckDB engine. `SELECT * EXCLUDE` (paired metrics by a dimension) prints as Spark 4's
`* EXCEPT`, so PySpark below 4.0 is not supported.

Pointing at a cluster: `--spark-master` (or CLOSEDLOOP_SPARK_MASTER), e.g. `spark://host:7077`
or `yarn`; any other Spark setting comes from `$SPARK_CONF_DIR/spark-defaults.conf`. The
Parquet directory must then be a path every executor reads (HDFS, S3 via s3a://, a shared
mount). See docs/DEPLOYMENT.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import ibis
    import pyarrow as pa
    from pyspark.sql import SparkSession
    from sqlglot import exp

VIEW_PREFIX = "store__"
DEFAULT_MASTER = "local[*]"
# Partition columns added by the export; not part of the store's tables.
_EXPORT_COLUMNS = ("month",)


def session(master: str | None = None, app_name: str = "closedloop") -> SparkSession:
    """A Spark session in UTC (created once per process by Spark itself, then reused)."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .master(master or DEFAULT_MASTER)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        # `month=2024-01` stays a string; the store's own types come from the Parquet files.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkSource:
    """A Parquet export registered as Spark views; runs DuckDB-dialect analytics SQL on it."""

    def __init__(self, directory: Path | str, spark: SparkSession | None = None, master: str | None = None):
        import ibis

        self.directory = Path(directory) if "://" not in str(directory) else directory
        self.spark = spark or session(master)
        self.con: ibis.BaseBackend = ibis.pyspark.connect(self.spark)
        self.tables = self._register()

    # -- registration -------------------------------------------------------------------------

    def _register(self) -> list[str]:
        import closedloop.models  # noqa: F401  (every table in the metadata)
        from closedloop.analytics import snapshot
        from closedloop.db import Base

        names = []
        for table in Base.metadata.sorted_tables:
            view = VIEW_PREFIX + table.name
            path = f"{self.directory}/{table.name}"
            if _has_parquet(path):
                frame = self.spark.read.parquet(path)
                extra = [c for c in _EXPORT_COLUMNS if c in frame.columns and c not in table.c]
                if extra:
                    frame = frame.drop(*extra)
            else:  # the export writes no files for an empty partitioned table
                columns = ", ".join(f"CAST(NULL AS {_spark_type(c.type)}) AS `{c.name}`" for c in table.c)
                frame = self.spark.sql(f"SELECT {columns} WHERE FALSE")
            derived = snapshot.derived_columns(table.name)
            if derived:  # what the DuckDB engine's views add (leads' has_identity)
                frame = frame.selectExpr("*", *(f"{_spark_expression(e)} AS `{name}`" for name, e in derived))
            frame.createOrReplaceTempView(view)
            names.append(table.name)
        return names

    # -- running ------------------------------------------------------------------------------

    def translate(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> str:
        """DuckDB SQL against `store.*` with its parameters, as one Spark SQL statement."""
        return to_spark_sql(sql, params)

    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pa.Table:
        """The result as an Arrow table, like `engine.query`."""
        return self.con.sql(self.translate(sql, params)).to_pyarrow()

    def rows(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The (few, aggregated) result rows as dicts, like `engine.rows`."""
        return self.query(sql, params).to_pylist()


def _spark_expression(duckdb_expression: str) -> str:
    import sqlglot

    return sqlglot.transpile(duckdb_expression, read="duckdb", write="spark")[0]


def _has_parquet(path: str) -> bool:
    if "://" in path:  # a cluster file system: let Spark look
        return True
    return any(Path(path).rglob("*.parquet")) if Path(path).is_dir() else False


def _spark_type(sa_type: Any) -> str:
    from sqlalchemy import types

    checks: list[tuple[type, str]] = [
        (types.Boolean, "BOOLEAN"),
        (types.BigInteger, "BIGINT"),
        (types.Integer, "BIGINT"),
        (types.DateTime, "TIMESTAMP"),
        (types.Date, "DATE"),
        (types.Float, "DOUBLE"),
        (types.Numeric, "DOUBLE"),
    ]
    impl = getattr(sa_type, "impl", sa_type)
    impl = impl() if isinstance(impl, type) else impl
    for kind, name in checks:
        if isinstance(impl, kind) or isinstance(sa_type, kind):
            return name
    return "STRING"


# -- DuckDB SQL -> Spark SQL --------------------------------------------------------------------


def to_spark_sql(sql: str, params: list[Any] | dict[str, Any] | None = None) -> str:
    """Parse DuckDB SQL, inline its parameters, rewrite DuckDB-only parts, print Spark SQL."""
    import sqlglot
    from sqlglot import exp

    tree: exp.Expression = sqlglot.parse_one(sql, read="duckdb")  # type: ignore[assignment]
    tree = _inline_params(tree, params)
    for table in list(tree.find_all(exp.Table)):
        if table.db == "store":
            alias = table.alias or table.name
            table.replace(exp.to_table(VIEW_PREFIX + table.name).as_(alias))
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    tree = tree.transform(_functions)
    for join in list(tree.find_all(exp.Join)):
        if (join.args.get("method") or "").upper() == "ASOF":
            _asof_to_range_join(join)
    return tree.sql(dialect="spark")


def _literal(value: Any) -> exp.Expression:
    from sqlglot import exp

    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            from datetime import UTC

            value = value.astimezone(UTC).replace(tzinfo=None)
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    return exp.Literal.string(str(value))


def _inline_params(tree: exp.Expression, params: list[Any] | dict[str, Any] | None) -> exp.Expression:
    from sqlglot import exp

    if not params:
        return tree
    positional = iter(params) if isinstance(params, list | tuple) else None

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            if node.name and node.name != "?" and isinstance(params, dict):
                return _literal(params[node.name])
            if positional is not None:
                return _literal(next(positional))
        if isinstance(node, exp.Parameter) and isinstance(params, dict):  # `$name` in some versions
            return _literal(params[node.name])
        return node

    return tree.transform(replace)


_DURATIONS = {"to_days": 0, "to_hours": 1, "to_minutes": 2, "to_seconds": 3}


def _functions(node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous) and node.name.lower() == "timezone" and len(node.expressions) == 2:
        zone, moment = node.expressions[0], node.expressions[1].transform(_functions)
        if isinstance(moment, exp.Cast):  # CAST(x AS TIMESTAMPTZ): Spark's session is in UTC
            moment = moment.this
        local = exp.Anonymous(this="from_utc_timestamp", expressions=[_as_ltz(moment), zone])
        return exp.cast(local, exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    if isinstance(node, exp.Literal) and not node.is_string and any(c in node.this for c in ".eE"):
        # DuckDB divides by 86400.0 in DOUBLE; Spark would keep DECIMAL and round to its scale.
        return exp.cast(node.copy(), exp.DataType.build("DOUBLE"))
    if isinstance(node, exp.ToDays):
        return exp.Anonymous(this="make_dt_interval", expressions=[node.this.copy()])
    if isinstance(node, exp.Anonymous) and node.name.lower() in _DURATIONS and len(node.expressions) == 1:
        position = _DURATIONS[node.name.lower()]  # make_dt_interval(days, hours, mins, secs)
        args: list[exp.Expression] = [exp.Literal.number(0)] * position + [node.expressions[0].copy()]
        return exp.Anonymous(this="make_dt_interval", expressions=args)
    if isinstance(node, exp.TimeToStr):
        pattern = node.args["format"].name if isinstance(node.args.get("format"), exp.Literal) else ""
        if "%G" in pattern or "%V" in pattern:
            return _iso_week(node.this.transform(_functions), pattern)
    if isinstance(node, exp.TimeToUnix):  # DuckDB's epoch keeps microseconds
        micros = exp.Anonymous(this="unix_micros", expressions=[_as_ltz(node.this.transform(_functions))])
        return exp.Div(this=micros, expression=exp.Literal.number("1000000.0"))
    if isinstance(node, exp.PercentileCont) and node.args.get("expression") is not None:
        inner = [node.this.transform(_functions), node.expression.transform(_functions)]
        return exp.Anonymous(this="percentile", expressions=inner)
    return node


def _as_ltz(moment: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    return exp.cast(moment.copy(), exp.DataType.build("TIMESTAMP_LTZ", dialect="spark"))


def _iso_week(moment: exp.Expression, pattern: str) -> exp.Expression:
    """strftime with %G (ISO year) and %V (ISO week): Spark's patterns have neither."""
    from sqlglot import exp

    year = exp.cast(
        exp.Extract(this=exp.var("YEAROFWEEK"), expression=moment.copy()), exp.DataType.build("STRING")
    )
    week = exp.Anonymous(
        this="lpad",
        expressions=[
            exp.cast(
                exp.Anonymous(this="weekofyear", expressions=[moment.copy()]), exp.DataType.build("STRING")
            ),
            exp.Literal.number(2),
            exp.Literal.string("0"),
        ],
    )
    parts: list[exp.Expression] = []
    text = pattern
    while text:
        if text.startswith("%G"):
            parts.append(year)
            text = text[2:]
        elif text.startswith("%V"):
            parts.append(week)
            text = text[2:]
        else:
            cut = min((i for i in (text.find("%G"), text.find("%V")) if i > 0), default=len(text))
            parts.append(exp.Literal.string(text[:cut]))
            text = text[cut:]
    return exp.Anonymous(this="concat", expressions=[p.copy() for p in parts])


def _asof_to_range_join(join: exp.Join) -> None:
    """`L ASOF LEFT JOIN R ON eq... AND L.x >= R.y` as a LEFT JOIN on [R.y, next R.y) per eq key.

    Exact when (eq keys, R.y) is unique in R, as it is for exchange rates (currency, day).
    """
    import sqlglot
    from sqlglot import exp

    right = join.this
    alias = right.alias_or_name
    conditions = (
        list(join.args["on"].flatten()) if isinstance(join.args["on"], exp.And) else [join.args["on"]]
    )
    equalities, inequality = [], None
    for cond in conditions:
        if isinstance(cond, exp.EQ):
            equalities.append(cond)
        elif isinstance(cond, exp.GTE | exp.GT | exp.LTE | exp.LT):
            inequality = cond
    if inequality is None:
        raise ValueError("ASOF join without an inequality")

    def on_right(node: exp.Expression) -> bool:
        return isinstance(node, exp.Column) and node.table == alias

    left_side, right_side = inequality.this, inequality.expression
    strict = isinstance(inequality, exp.GT | exp.LT)
    if on_right(left_side):  # R.y <= L.x  ->  L.x >= R.y
        left_side, right_side = right_side, left_side
        strict = isinstance(inequality, exp.LT)
    partition = [c.expression if on_right(c.expression) else c.this for c in equalities]
    right_col = right_side.name
    source = right.this.copy() if isinstance(right, exp.Table) else right.copy()
    inner = sqlglot.select(
        exp.Star(),
        exp.Window(
            this=exp.Anonymous(this="lead", expressions=[exp.column(right_col)]),
            partition_by=[exp.column(p.name) for p in partition],
            order=exp.Order(expressions=[exp.Ordered(this=exp.column(right_col))]),
        ).as_("__asof_next"),
    ).from_(exp.Table(this=source) if isinstance(source, exp.Identifier) else source)
    join.set("this", exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    join.set("method", None)
    nxt = exp.column("__asof_next", table=alias)
    lower = (exp.GT if strict else exp.GTE)(this=left_side.copy(), expression=right_side.copy())
    upper = exp.Or(
        this=exp.Is(this=nxt.copy(), expression=exp.null()),
        expression=(exp.LTE if strict else exp.LT)(this=left_side.copy(), expression=nxt),
    )
    join.set("on", exp.and_(*[e.copy() for e in equalities], lower, exp.Paren(this=upper)))


# -- the CLI hook -----------------------------------------------------------------------------

_sources: dict[tuple[str, str | None], SparkSource] = {}


def source_for(directory: str | Path, master: str | None = None) -> SparkSource:
    """One registered source per directory and master in this process."""
    key = (str(directory), master)
    if key not in _sources:
        _sources[key] = SparkSource(directory, master=master)
    return _sources[key]


@contextmanager
def running_on(directory: str | Path, master: str | None = None) -> Iterator[SparkSource]:
    """Every analytics query inside the block runs on Spark over the Parquet export."""
    from closedloop.analytics import engine

    source = source_for(directory, master)
    with engine.using(source):
        yield source


def with_engine_options(command: click.Command) -> click.Command:
    """Add `--engine duckdb|spark`, `--source DIR` and `--spark-master` to an analytics command."""
    from closedloop.errors import ValidationFailed
    from closedloop.i18n import translate

    callback: Callable[..., Any] = command.callback  # type: ignore[assignment]

    @functools.wraps(callback)
    def run(*args: Any, engine_name: str, source: str | None, spark_master: str | None, **kwargs: Any) -> Any:
        if engine_name == "duckdb":
            if source is not None:
                raise ValidationFailed(
                    translate("operations.spark.source_needs_spark"), detail={"field": "source"}
                )
            return callback(*args, **kwargs)
        if source is None:
            raise ValidationFailed(translate("operations.spark.needs_source"), detail={"field": "source"})
        try:
            import pyspark  # noqa: F401
        except ImportError as exc:
            raise ValidationFailed(translate("operations.spark.missing_pyspark")) from exc
        with running_on(source, spark_master):
            return callback(*args, **kwargs)

    command.callback = run
    command.params.extend(
        [
            click.Option(
                ["--engine", "engine_name"],
                type=click.Choice(["duckdb", "spark"]),
                default="duckdb",
                show_default=True,
                help="Run on DuckDB over the store, or on Spark over a Parquet export.",
            ),
            click.Option(
                ["--source"],
                metavar="DIR",
                default=None,
                help="Parquet export directory read by --engine spark (closedloop export parquet DIR).",
            ),
            click.Option(
                ["--spark-master"],
                envvar="CLOSEDLOOP_SPARK_MASTER",
                default=None,
                help="Spark master URL (default local[*]), e.g. spark://host:7077 or yarn.",
            ),
        ]
    )
    return command
