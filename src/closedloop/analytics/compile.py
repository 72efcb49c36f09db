"""Metric declarations compiled to SQL: a `facts` relation (one row per lead, deal, hand-off...)
with uniform columns, and one aggregation per metric kind.

facts columns: id, g_<dim>..., den, num, imm (booleans), x (a measure), miss/miss_key (a
missing exchange rate), reason (hand-offs). Drill-through reads the same `facts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from closedloop.analytics import relations as rel
from closedloop.analytics.declarations import Metric
from closedloop.analytics.slicing import Slice, check_dimension
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

DAYS = "86400000000.0"  # microseconds in a day
# The order policies.service.policy_in_force picks the version in force by (latest effective_from, then version).
VERSION_ORDER = "{'e': pv.effective_from, 'v': pv.version}"


@dataclass
class Compiled:
    """A metric ready to run: its parameters, CTEs ending in `facts` (and `lfacts` for cost_per)."""

    metric: Metric
    sql: rel.Sql
    ctes: list[str]
    dims: tuple[str, ...]
    extra: dict[str, str] = field(default_factory=dict)


def _facts(select: str, from_where: str, **cols: str) -> str:
    defaults = {
        "den": "TRUE",
        "num": "FALSE",
        "imm": "FALSE",
        "x": "CAST(NULL AS DOUBLE)",
        "miss": "FALSE",
        "miss_key": "CAST(NULL AS VARCHAR)",
        "reason": "CAST(NULL AS VARCHAR)",
    }
    defaults.update(cols)
    measures = ", ".join(f"{v} AS {k}" for k, v in defaults.items())
    return f"facts AS (SELECT {select}, {measures}\n  {from_where})"


def _g(dims: tuple[str, ...], alias: str = "dims") -> str:
    return ", ".join([f"{alias}.id", *(f"{alias}.g_{d}" for d in dims)])


def stage_pair(metric: Metric, from_stage: str | None, to_stage: str | None) -> tuple[str, str | None]:
    """Validate the stages a lead metric needs."""
    for value in (from_stage, to_stage):
        if value is not None and value not in rel.STAGES:
            raise ValidationFailed(
                translate("analytics.error.bad_stage", stage=value), detail={"field": "stage"}
            )
    if metric.name == "lead_to_customer_rate":
        return "lead", "customer"
    if metric.name == "stage_count":
        return from_stage or "lead", None
    if from_stage is None or to_stage is None:
        raise ValidationFailed(
            translate("analytics.error.needs_stages", metric=metric.name), detail={"field": "stage"}
        )
    if rel.STAGES.index(to_stage) <= rel.STAGES.index(from_stage):
        raise ValidationFailed(
            translate("analytics.error.stage_order", from_stage=from_stage, to_stage=to_stage),
            detail={"field": "to_stage"},
        )
    return from_stage, to_stage


def compile_metric(
    metric: Metric,
    sl: Slice,
    *,
    from_stage: str | None = None,
    to_stage: str | None = None,
    real_only: bool = False,
) -> Compiled:
    """The facts of `metric` over slice `sl`.

    `real_only` counts only real (not implied) reaches in stage_count: marketing's commitments.
    """
    for dim in (*sl.by, *sl.where):
        check_dimension(dim, metric.dimensions)
    q = rel.Sql()
    dims = sl.by
    from closedloop.analytics import compile_business as biz

    special = {
        "ltv_historical": biz.ltv_historical,
        "retention": biz.retention,
        "churn_rate": biz.retention,
        "roas": biz.return_on_spend,
        "roi": biz.return_on_spend,
        "quota_attainment": biz.quota_attainment,
        "pipeline_as_of": biz.pipeline_as_of,
        "data_quality": biz.data_quality,
    }
    if metric.name in special:
        return special[metric.name](metric, sl, q, dims)
    if metric.subject == "lead":
        return _lead(metric, sl, q, dims, *stage_pair(metric, from_stage, to_stage), real_only=real_only)
    if metric.subject == "deal":
        return _deal(metric, sl, q, dims)
    if metric.subject == "handoff":
        return _handoff(metric, sl, q, dims)
    if metric.subject == "feedback":
        return _feedback(metric, sl, q, dims)
    if metric.subject == "spend":
        return spend_facts(metric, sl, q, dims)
    raise AssertionError(f"unknown subject {metric.subject}")


def _period(q: rel.Sql, sl: Slice, column: str) -> str:
    return f"{column} >= {q.bind(sl.start, 'start')} AND {column} < {q.bind(sl.end, 'end')}"


def _lead(
    metric: Metric,
    sl: Slice,
    q: rel.Sql,
    dims: tuple[str, ...],
    s: str,
    t: str | None,
    *,
    real_only: bool = False,
) -> Compiled:
    real = metric.kind == "stats" or real_only
    ctes = [*rel.reach_ctes(q, sl, real=real), rel.dims_cte(q, sl, "lead", dims)]
    base = f"FROM reach r JOIN dims ON dims.id = r.lead_id WHERE {_period(q, sl, f'r.at_{s}')}"
    if real_only:
        base += f" AND r.real_{s}"
    if metric.kind == "count":
        ctes.append(_facts(_g(dims), base))
    elif metric.kind == "rate":
        cutoff = f"({q.bind(sl.as_of_naive, 'asof')} - to_days(CAST({q.bind(sl.window, 'win')} AS INTEGER)))"
        within = f"r.at_{s} + to_days(CAST({q.bind(sl.window, 'win')} AS INTEGER))"
        mature = f"r.at_{s} <= {cutoff}"
        reached = f"(r.at_{t} IS NOT NULL AND r.at_{t} <= {within})"
        ctes.append(
            _facts(_g(dims), base, den=mature, num=f"({mature} AND {reached})", imm=f"NOT ({mature})")
        )
    else:  # velocity: real reaches of both stages only
        x = f"date_diff('microsecond', r.at_{s}, r.at_{t}) / {DAYS}"
        ctes.append(_facts(_g(dims), f"{base} AND r.real_{s} AND r.real_{t} AND r.at_{t} IS NOT NULL", x=x))
    return Compiled(metric, q, ctes, dims, {"from_stage": s, "to_stage": t or ""})


def _deal(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    ctes = [*rel.deal_ctes(q, sl), rel.dims_cte(q, sl, "deal", dims)]
    joined = "FROM dlx JOIN dims ON dims.id = dlx.id"
    money = {"miss": "dlx.rate IS NULL", "miss_key": "dlx.currency || ' ' || CAST(dlx.rate_date AS VARCHAR)"}
    if metric.name in ("win_rate", "avg_deal_size", "sales_cycle"):
        closed = _period(q, sl, "dlx.closed_at")
    if metric.name == "win_rate":
        ctes.append(
            _facts(
                _g(dims),
                f"{joined} WHERE dlx.status_at IN ('won', 'lost') AND {closed}",
                num="dlx.status_at = 'won'",
            )
        )
    elif metric.name == "avg_deal_size":
        ctes.append(
            _facts(_g(dims), f"{joined} WHERE dlx.status_at = 'won' AND {closed}", x="dlx.amount", **money)
        )
    elif metric.name == "sales_cycle":
        x = f"date_diff('microsecond', dlx.created_at, dlx.closed_at) / {DAYS}"
        ctes.append(_facts(_g(dims), f"{joined} WHERE dlx.status_at = 'won' AND {closed}", x=x))
    elif metric.name == "won_amount":
        won = f"{joined} WHERE dlx.status_at = 'won' AND {_period(q, sl, 'dlx.closed_at')}"
        ctes.append(_facts(_g(dims), won, x="dlx.amount", **money))
    elif metric.name == "pipeline_created":
        ctes.append(
            _facts(_g(dims), f"{joined} WHERE {_period(q, sl, 'dlx.created_at')}", x="dlx.amount", **money)
        )
    elif metric.name == "weighted_pipeline":
        # Each open deal is weighted by the stage probabilities in force when it entered its stage
        # at as-of (SPEC section 4: never re-weighted by a later version); the stage table's own
        # probability stands in when no approved version covers that moment.
        as_of = q.bind(sl.as_of_naive, "asof")
        ctes.append(f"""last_stage AS (SELECT deal_id, arg_max(to_stage, CAST(occurred_at AS TIMESTAMP)) AS stage,
    max(CAST(occurred_at AS TIMESTAMP)) AS entered_at
  FROM store.deal_stage_events WHERE CAST(occurred_at AS TIMESTAMP) <= {as_of} GROUP BY deal_id)""")
        ctes.append(f"""stage_weight AS (SELECT dlx.id, arg_max(pv.payload, {VERSION_ORDER}) AS payload
  FROM dlx LEFT JOIN last_stage ls ON ls.deal_id = dlx.id
  JOIN store.policy_versions pv ON pv.kind = 'stage_probabilities' AND pv.status = 'approved'
    AND pv.effective_from <= coalesce(ls.entered_at, dlx.created_at)
    AND pv.approved_at <= coalesce(ls.entered_at, dlx.created_at)
  GROUP BY dlx.id)""")
        stage = "coalesce(ls.stage, dlx.stage)"
        versioned = f"TRY_CAST(json_extract_string(sw.payload, '$.\"' || {stage} || '\"') AS DOUBLE)"
        probability = f"""CASE dlx.status_at WHEN 'won' THEN 1.0 WHEN 'lost' THEN 0.0
      ELSE coalesce(CASE WHEN ps.outcome = 'open' THEN coalesce({versioned}, CAST(ps.probability AS DOUBLE)) END, 0.0)
    END"""
        from_where = f"""{joined} LEFT JOIN last_stage ls ON ls.deal_id = dlx.id
  LEFT JOIN stage_weight sw ON sw.id = dlx.id
  LEFT JOIN store.pipeline_stages ps ON ps.key = {stage}
  WHERE {_period(q, sl, "dlx.created_at")}"""
        ctes.append(_facts(_g(dims), from_where, x=f"dlx.amount * {probability}", **money))
    else:
        raise AssertionError(metric.name)
    return Compiled(metric, q, ctes, dims)


def _handoff(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    as_of = q.bind(sl.as_of_naive, "asof")
    ctes = [rel.dims_cte(q, sl, "handoff", dims)]
    responded = f"(h.first_response_at IS NOT NULL AND CAST(h.first_response_at AS TIMESTAMP) <= {as_of})"
    base = (
        f"FROM store.handoffs h JOIN dims ON dims.id = h.id WHERE {_period(q, sl, 'CAST(h.assigned_at AS TIMESTAMP)')}"
        f" AND CAST(h.assigned_at AS TIMESTAMP) <= {as_of}"
    )
    if metric.name == "sla_compliance":
        breached = f"(h.breached_at IS NOT NULL AND CAST(h.breached_at AS TIMESTAMP) <= {as_of})"
        decided = f"(({responded} AND h.sla_met IS NOT NULL) OR {breached})"
        num = f"({responded} AND coalesce(CAST(h.sla_met AS BOOLEAN), false) AND NOT {breached})"
        ctes.append(_facts(_g(dims), base, den=decided, num=num))
    elif metric.name == "response_time":
        ctes.append(
            _facts(_g(dims), f"{base} AND {responded}", x="CAST(h.response_business_hours AS DOUBLE)")
        )
    elif metric.name == "rejection_rate":
        rejected = f"(h.rejected_at IS NOT NULL AND CAST(h.rejected_at AS TIMESTAMP) <= {as_of})"
        reason = f"CASE WHEN {rejected} THEN coalesce(h.rejection_reason, 'other') END"
        ctes.append(_facts(_g(dims), base, num=rejected, reason=reason))
    else:
        raise AssertionError(metric.name)
    return Compiled(metric, q, ctes, dims)


def _feedback(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    as_of = q.bind(sl.as_of_naive, "asof")
    at = "CAST(f.occurred_at AS TIMESTAMP)"
    base = f"FROM store.customer_feedback f JOIN dims ON dims.id = f.id WHERE {_period(q, sl, at)} AND {at} <= {as_of}"
    x = "CAST(f.score AS DOUBLE) * 5.0 / nullif(f.scale_max, 0)"  # every scale put on 5 points
    return Compiled(metric, q, [rel.dims_cte(q, sl, "feedback", dims), _facts(_g(dims), base, x=x)], dims)


def spend_facts(metric: Metric, sl: Slice, q: rel.Sql, dims: tuple[str, ...]) -> Compiled:
    cur = q.bind(sl.workspace.currency.upper(), "cur")
    exprs = {
        "channel": f"coalesce(nullif(s.channel, ''), nullif(c.channel, ''), {rel.quote(rel.NONE)})",
        "campaign": f"coalesce(nullif(c.name, ''), {rel.quote(rel.NONE)})",
    }
    conditions = [
        f"CAST(s.spend_date AS DATE) BETWEEN {q.bind(sl.date_from, 'd')} AND {q.bind(sl.date_to, 'd')}"
    ]
    for dim, values in sl.where.items():
        conditions.append(f"{exprs[dim]} IN ({', '.join(q.bind(v, 'w') for v in values)})")
    groups = "".join(f", {exprs[d]} AS g_{d}" for d in dims)
    rate = f"(CASE WHEN sp.currency = {cur} THEN 1.0 ELSE fx.rate END)"
    ctes = [
        rel.fx_cte(),
        f"""sp AS (SELECT s.id, s.amount_minor, upper(s.currency) AS currency, CAST(s.spend_date AS DATE) AS rate_date{groups}
  FROM store.campaign_spend s LEFT JOIN store.campaigns c ON c.id = s.campaign_id WHERE {" AND ".join(conditions)})""",
    ]
    with_costs = metric.name == "cac" and not dims and not sl.where
    if with_costs:  # sales and other costs, prorated by the days they share with the period
        d0, d1 = q.bind(sl.date_from, "d"), q.bind(sl.date_to, "d")
        ctes.append(f"""ce AS (SELECT -id AS id, upper(currency) AS currency, CAST(period_start AS DATE) AS rate_date,
  CAST(amount_minor AS DOUBLE) * greatest(0, date_diff('day', greatest(CAST(period_start AS DATE), {d0}),
    least(CAST(period_end AS DATE), {d1})) + 1) / (date_diff('day', CAST(period_start AS DATE),
    CAST(period_end AS DATE)) + 1) AS amount_minor
  FROM store.cost_entries WHERE CAST(period_start AS DATE) <= {d1} AND CAST(period_end AS DATE) >= {d0})""")
        ctes.append(
            "spc AS (SELECT id, amount_minor, currency, rate_date FROM sp UNION ALL "
            "SELECT id, amount_minor, currency, rate_date FROM ce)"
        )
    source = "spc" if with_costs else "sp"
    select = ", ".join(["sp.id", *(f"sp.g_{d}" for d in dims)])
    ctes.append(
        _facts(
            select,
            f"FROM {source} sp ASOF LEFT JOIN fx ON sp.currency = fx.currency AND sp.rate_date >= fx.rate_date",
            x=rel.convert("sp.amount_minor", "sp.currency", rate, sl),
            miss="fx.rate IS NULL AND sp.currency <> " + cur,
            miss_key="sp.currency || ' ' || CAST(sp.rate_date AS VARCHAR)",
        )
    )
    compiled = Compiled(metric, q, ctes, dims)
    if metric.kind == "cost_per":
        stage = metric.options["stage"]
        compiled.ctes += [*rel.reach_ctes(q, sl, real=False), rel.dims_cte(q, sl, "lead", dims)]
        compiled.ctes.append(
            f"lfacts AS (SELECT {_g(dims)}, 1 AS y, FALSE AS miss, CAST(NULL AS VARCHAR) AS miss_key"
            " FROM reach r JOIN dims ON dims.id = r.lead_id"
            f" WHERE {_period(q, sl, f'r.at_{stage}')})"
        )
    return compiled


def aggregate_sql(c: Compiled) -> str:
    """The per-group aggregation of a compiled metric."""
    g = ", ".join(f"g_{d}" for d in c.dims)
    lead = f"{g}, " if g else ""
    order = f" ORDER BY {g}" if g else ""
    body = f"""SELECT {lead}count(*) FILTER (WHERE den AND num) AS n, count(*) FILTER (WHERE den) AS d,
  count(*) FILTER (WHERE imm) AS i, count(x) AS cnt, sum(x) AS sx, quantile_cont(x, 0.5) AS med, avg(x) AS mean,
  quantile_cont(x, 0.9) AS p90, count(*) FILTER (WHERE miss) AS miss, min(miss_key) FILTER (WHERE miss) AS miss_key
  FROM facts{" GROUP BY " + g if g else ""}"""
    if c.metric.kind not in ("cost_per", "pair"):
        return rel.with_clause(c.ctes) + body + order
    leads = (
        f"SELECT {lead}sum(y) AS ld, count(*) FILTER (WHERE miss) AS lmiss, min(miss_key) FILTER (WHERE miss)"
        f" AS lmiss_key FROM lfacts{' GROUP BY ' + g if g else ''}"
    )
    if g:
        keys = ", ".join(f"coalesce(a.g_{d}, b.g_{d}) AS g_{d}" for d in c.dims)
        on = " AND ".join(f"a.g_{d} = b.g_{d}" for d in c.dims)
        join = f"SELECT {keys}, a.* EXCLUDE ({g}), b.* EXCLUDE ({g}) FROM a FULL JOIN b ON {on}"
    else:
        join = "SELECT a.*, b.* FROM a CROSS JOIN b"
    return rel.with_clause([*c.ctes, f"a AS ({body})", f"b AS ({leads})"]) + join + order


def reasons_sql(c: Compiled) -> str:
    """Rejection reason mix per group."""
    g = ", ".join(f"g_{d}" for d in c.dims)
    lead = f"{g}, " if g else ""
    return rel.with_clause(c.ctes) + f"SELECT {lead}reason, count(*) AS k FROM facts WHERE num GROUP BY ALL"
