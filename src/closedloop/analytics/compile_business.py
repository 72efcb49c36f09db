"""Compilers for the money-and-customer metrics: LTV, retention/churn, ROI/ROAS, quota
attainment, the open pipeline at a moment, and data quality (same `facts` contract as compile.py;
two-sided metrics add `lfacts` with a summed `y`)."""

from __future__ import annotations

from closedloop.analytics import relations as rel
from closedloop.analytics.compile import Compiled, _facts, _g, _period, spend_facts
from closedloop.analytics.declarations import Metric
from closedloop.analytics.slicing import Slice

MARGIN = "coalesce(p.margin_pct, (SELECT default_margin_pct FROM store.workspace_settings ORDER BY id LIMIT 1), 1.0)"


def _converted(q: rel.Sql, sl: Slice, alias: str) -> str:
    cur = q.bind(sl.workspace.currency.upper(), "cur")
    rate = f"(CASE WHEN {alias}.currency = {cur} THEN 1.0 ELSE fx.rate END)"
    return rel.convert(f"{alias}.amount_minor", f"{alias}.currency", rate, sl)


def _missing(q: rel.Sql, sl: Slice, alias: str) -> tuple[str, str]:
    cur = q.bind(sl.workspace.currency.upper(), "cur")
    return (
        f"(fx.rate IS NULL AND {alias}.currency <> {cur})",
        f"{alias}.currency || ' ' || CAST({alias}.rate_date AS VARCHAR)",
    )


def _revenue_cte(q: rel.Sql, sl: Slice) -> str:
    """`rev`: revenue documents known at as-of, per customer company, in the reporting currency."""
    as_of = q.bind(sl.as_of_naive, "asof")
    tz = sl.workspace.time_zone
    miss, key = _missing(q, sl, "r")
    return f"""rev AS (SELECT r.*, {_converted(q, sl, "r")} AS amount, {miss} AS miss, {key} AS miss_key
  FROM (SELECT e.id, coalesce(e.account_id, d.account_id) AS account_id, e.product_id, e.amount_minor,
      upper(e.currency) AS currency, e.occurred_at, CAST({rel.local("e.occurred_at", tz)} AS DATE) AS rate_date
    FROM store.revenue_events e LEFT JOIN store.deals d ON d.id = e.deal_id
    WHERE e.occurred_at <= {as_of}) r
  ASOF LEFT JOIN fx ON r.currency = fx.currency AND r.rate_date >= fx.rate_date
  WHERE r.account_id IS NOT NULL)"""


def ltv_historical(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    """Gross margin to date (as-of) per customer company that became a customer in the period."""
    as_of = q.bind(sl.as_of_naive, "asof")
    ctes = [rel.fx_cte(), _revenue_cte(q, sl), rel.dims_cte(q, sl, "account", dims)]
    groups = "".join(f", dims.g_{d}" for d in dims)
    ctes.append(
        f"""facts AS (SELECT dims.id{groups}, TRUE AS den, FALSE AS num, FALSE AS imm,
    coalesce(sum(rev.amount * {MARGIN}), 0.0) AS x, coalesce(bool_or(rev.miss), false) AS miss,
    min(rev.miss_key) FILTER (WHERE rev.miss) AS miss_key, CAST(NULL AS VARCHAR) AS reason
  FROM store.accounts a JOIN dims ON dims.id = a.id LEFT JOIN rev ON rev.account_id = a.id
    LEFT JOIN store.products p ON p.id = rev.product_id
  WHERE {_period(q, sl, "a.became_customer_at")} AND a.became_customer_at <= {as_of}
  GROUP BY dims.id{groups})"""
    )
    return Compiled(metric, q, ctes, dims)


def retention(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    """Customer-months with net revenue in the period, and whether the next month has revenue too.

    A month whose next month has not ended by as-of is immature (left out, counted in `immature`).
    """
    tz = sl.workspace.time_zone
    local_as_of = rel.local(q.bind(sl.as_of_naive, "asof"), tz)
    month = f"date_trunc('month', {rel.local('occurred_at', tz)})"
    first = f"date_trunc('month', CAST({q.bind(sl.date_from, 'd')} AS TIMESTAMP))"
    last = f"date_trunc('month', CAST({q.bind(sl.date_to, 'd')} AS TIMESTAMP))"
    ctes = [rel.fx_cte(), _revenue_cte(q, sl), rel.dims_cte(q, sl, "account", dims)]
    ctes.append(
        f"""months AS (SELECT account_id, {month} AS m, bool_or(miss) AS miss, min(miss_key) AS miss_key
  FROM rev GROUP BY ALL HAVING sum(amount) > 0 OR bool_or(miss))"""
    )
    mature = f"(a.m + INTERVAL 2 MONTH <= {local_as_of})"
    kept = (
        "EXISTS (SELECT 1 FROM months b WHERE b.account_id = a.account_id AND b.m = a.m + INTERVAL 1 MONTH)"
    )
    num = f"NOT {kept}" if metric.name == "churn_rate" else kept
    base = f"FROM months a JOIN dims ON dims.id = a.account_id WHERE a.m >= {first} AND a.m <= {last}"
    ctes.append(
        _facts(_g(dims), base, den=mature, num=num, imm=f"NOT {mature}", miss="a.miss", miss_key="a.miss_key")
    )
    return Compiled(metric, q, ctes, dims)


def _won_deals(q: rel.Sql, sl: Slice, dims: tuple[str, ...], value: str) -> list[str]:
    """`lfacts`: deals won in the period with `y` = value, by the deal's dimensions (first touch for channel)."""
    ctes = [*rel.deal_ctes(q, sl, with_fx=False), rel.dims_cte(q, sl, "deal", dims, name="ddims")]
    groups = "".join(f", ddims.g_{d}" for d in dims)
    ctes.append(
        f"""lfacts AS (SELECT ddims.id{groups}, {value} AS y, dlx.rate IS NULL AS miss,
    dlx.currency || ' ' || CAST(dlx.rate_date AS VARCHAR) AS miss_key
  FROM dlx JOIN ddims ON ddims.id = dlx.id LEFT JOIN store.deals dd ON dd.id = dlx.id
    LEFT JOIN store.products p ON p.id = dd.product_id
  WHERE dlx.status_at = 'won' AND {_period(q, sl, "dlx.closed_at")})"""
    )
    return ctes


def return_on_spend(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    """ROAS and ROI: spend (a) against first-touch won amount or gross margin (b)."""
    compiled = spend_facts(metric, sl, q, dims)
    value = "dlx.amount" if metric.name == "roas" else f"dlx.amount * {MARGIN}"
    compiled.ctes += _won_deals(q, sl, dims, value)
    return compiled


def quota_attainment(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    """Won amount (a) against quota (b), prorated by the days the quota period shares with the period.

    By owner: reps' quotas; otherwise team quotas (rows without a rep).
    """
    d0, d1 = q.bind(sl.date_from, "d"), q.bind(sl.date_to, "d")
    ctes = [*rel.deal_ctes(q, sl), rel.dims_cte(q, sl, "deal", dims)]
    ctes.append(
        _facts(
            _g(dims),
            f"FROM dlx JOIN dims ON dims.id = dlx.id WHERE dlx.status_at = 'won' AND {_period(q, sl, 'dlx.closed_at')}",
            x="dlx.amount",
            miss="dlx.rate IS NULL",
            miss_key="dlx.currency || ' ' || CAST(dlx.rate_date AS VARCHAR)",
        )
    )
    exprs = {
        "owner": f"coalesce(u.email, {rel.quote(rel.NONE)})",
        "team": f"coalesce(t.name, {rel.quote(rel.NONE)})",
    }
    conditions = [f"qu.period_start <= {d1}", f"qu.period_end >= {d0}"]
    conditions.append("qu.user_id IS NOT NULL" if "owner" in (*dims, *sl.where) else "qu.user_id IS NULL")
    for dim, values in sl.where.items():
        conditions.append(f"{exprs[dim]} IN ({', '.join(q.bind(v, 'w') for v in values)})")
    share = (
        f"greatest(0, date_diff('day', greatest(qu.period_start, {d0}), least(qu.period_end, {d1})) + 1)"
        " / (date_diff('day', qu.period_start, qu.period_end) + 1)"
    )
    miss, key = _missing(q, sl, "qu")
    groups = "".join(f", {exprs[d]} AS g_{d}" for d in dims)
    ctes.append(
        f"""lfacts AS (SELECT qu.id{groups}, {_converted(q, sl, "qu")} * {share} AS y, {miss} AS miss, {key} AS miss_key
  FROM (SELECT id, user_id, team_id, period_start, period_end, amount_minor, upper(currency) AS currency,
      period_start AS rate_date FROM store.quotas) qu
    ASOF LEFT JOIN fx ON qu.currency = fx.currency AND qu.rate_date >= fx.rate_date
    LEFT JOIN store.users u ON u.id = qu.user_id LEFT JOIN store.teams t ON t.id = qu.team_id
  WHERE {" AND ".join(conditions)})"""
    )
    return Compiled(metric, q, ctes, dims)


def pipeline_as_of(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    """Open deals at as-of: amount, count, slipped (close date moved later) and stale (no recent activity)."""
    as_of = q.bind(sl.as_of_naive, "asof")
    stale_cutoff = f"({as_of} - to_days(CAST({q.bind(sl.workspace.stale_deal_days, 'stale')} AS INTEGER)))"
    special = {
        "deal_stage": "coalesce(ls.stage, dlx.stage)",
        "forecast_category": "coalesce(ps.forecast_category, 'pipeline')",
    }
    plain = tuple(d for d in dims if d not in special)
    where = {k: v for k, v in sl.where.items() if k not in special}
    inner = Slice(
        sl.workspace, sl.date_from, sl.date_to, sl.start, sl.end, sl.as_of, sl.by, where, sl.window, sl.scope
    )
    ctes = [*rel.deal_ctes(q, sl), rel.dims_cte(q, inner, "deal", plain)]
    ctes.append(
        f"""last_stage AS (SELECT deal_id, arg_max(to_stage, occurred_at) AS stage,
    arg_max(expected_close_date, occurred_at) FILTER (WHERE expected_close_date IS NOT NULL) AS latest_close,
    arg_min(expected_close_date, occurred_at) FILTER (WHERE expected_close_date IS NOT NULL) AS first_close
  FROM store.deal_stage_events WHERE occurred_at <= {as_of} GROUP BY deal_id)"""
    )
    ctes.append(
        f"""touched AS (SELECT deal_id, max(occurred_at) AS last_at FROM store.activities
  WHERE deal_id IS NOT NULL AND occurred_at <= {as_of} GROUP BY deal_id)"""
    )
    conditions = ["dlx.status_at = 'open'"]
    for dim, values in sl.where.items():
        if dim in special:
            conditions.append(f"{special[dim]} IN ({', '.join(q.bind(v, 'w') for v in values)})")
    groups = "".join(f", {special[d]} AS g_{d}" if d in special else f", dims.g_{d}" for d in dims)
    slipped = "coalesce(ls.latest_close > ls.first_close, false)"
    stale = f"coalesce(tc.last_at, dlx.created_at) < {stale_cutoff}"
    ctes.append(
        f"""facts AS (SELECT dims.id{groups}, TRUE AS den, {slipped} AS num, {stale} AS imm, dlx.amount AS x,
    dlx.rate IS NULL AS miss, dlx.currency || ' ' || CAST(dlx.rate_date AS VARCHAR) AS miss_key,
    CAST(NULL AS VARCHAR) AS reason
  FROM dlx JOIN dims ON dims.id = dlx.id LEFT JOIN last_stage ls ON ls.deal_id = dlx.id
    LEFT JOIN store.pipeline_stages ps ON ps.key = coalesce(ls.stage, dlx.stage)
    LEFT JOIN touched tc ON tc.deal_id = dlx.id
  WHERE {" AND ".join(conditions)})"""
    )
    return Compiled(metric, q, ctes, dims)


def data_quality(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    """Leads and deals created in the period whose required fields are valid (deal ids negated)."""
    ctes = [rel.dims_cte(q, sl, "lead", dims, name="ldims"), rel.dims_cte(q, sl, "deal", dims, name="ddims")]
    lead_ok = (
        "l.has_identity AND l.country IS NOT NULL AND l.region IS NOT NULL AND l.industry IS NOT NULL"
        " AND l.source_type IS NOT NULL"
    )
    deal_ok = (
        "d.amount_minor > 0 AND d.owner_id IS NOT NULL AND (d.status <> 'open' OR d.expected_close_date IS NOT NULL)"
        " AND (d.status <> 'lost' OR d.lost_reason IS NOT NULL)"
    )
    lg = "".join(f", ldims.g_{d}" for d in dims)
    dg = "".join(f", ddims.g_{d}" for d in dims)
    rest = "FALSE AS imm, CAST(NULL AS DOUBLE) AS x, FALSE AS miss, CAST(NULL AS VARCHAR) AS miss_key, CAST(NULL AS VARCHAR) AS reason"
    as_of = q.bind(sl.as_of_naive, "asof")
    ctes.append(
        f"""facts AS (SELECT ldims.id{lg}, TRUE AS den, {lead_ok} AS num, {rest}
  FROM store.leads l JOIN ldims ON ldims.id = l.id WHERE {_period(q, sl, "l.created_at")} AND l.created_at <= {as_of}
  UNION ALL SELECT -ddims.id{dg}, TRUE, {deal_ok}, {rest}
  FROM store.deals d JOIN ddims ON ddims.id = d.id WHERE {_period(q, sl, "d.created_at")} AND d.created_at <= {as_of})"""
    )
    return Compiled(metric, q, ctes, dims)
