"""Predictive LTV, LTV:CAC and payback months (SPEC section 5).

- monthly gross margin per customer = gross margin of the period's customer-months with net
  revenue / the number of those customer-months (the months `retention` counts);
- monthly churn = the churn model's latest probability (scored by as-of) averaged over those
  customers when the model has scored them, else the measured `churn_rate` (mature months);
- `ltv_predictive` = monthly gross margin per customer / monthly churn;
- `ltv_cac` = ltv_predictive / cac; `payback_months` = cac / monthly gross margin per customer
  (cac over the same period, spend plus sales costs, unsliced).

Each result names what it used in `figures` (monthly margin, churn and where the churn came from).
"""

from __future__ import annotations

from typing import Any

from closedloop.analytics import relations as rel
from closedloop.analytics import snapshot
from closedloop.analytics.compile_business import MARGIN, _revenue_cte
from closedloop.analytics.declarations import Metric
from closedloop.analytics.slicing import Slice, check_dimension
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

NAMES = ("ltv_predictive", "ltv_cac", "payback_months")


def _sql(sl: Slice, dims: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Per group: margin and count of customer-months, mature/churned months, the model's mean churn."""
    q = rel.Sql()
    tz = sl.workspace.time_zone
    as_of = q.bind(sl.as_of_naive, "asof")
    local_as_of = rel.local(as_of, tz)
    month = f"date_trunc('month', {rel.local('rev.occurred_at', tz)})"
    first = f"date_trunc('month', CAST({q.bind(sl.date_from, 'd')} AS TIMESTAMP))"
    last = f"date_trunc('month', CAST({q.bind(sl.date_to, 'd')} AS TIMESTAMP))"
    groups = "".join(f", dims.g_{d}" for d in dims)
    g = ", ".join(f"g_{d}" for d in dims)
    lead = f"{g}, " if g else ""
    ctes = [
        rel.fx_cte(),
        _revenue_cte(q, sl),
        rel.dims_cte(q, sl, "account", dims),
        f"""months AS (SELECT rev.account_id, {month} AS m, sum(rev.amount * {MARGIN}) AS gm,
    bool_or(rev.miss) AS miss, min(rev.miss_key) AS miss_key
  FROM rev LEFT JOIN store.products p ON p.id = rev.product_id
  GROUP BY ALL HAVING sum(rev.amount) > 0 OR bool_or(rev.miss))""",
        f"""cm AS (SELECT a.account_id{groups}, a.gm, a.miss, a.miss_key,
    (a.m + INTERVAL 2 MONTH <= {local_as_of}) AS mature,
    NOT EXISTS (SELECT 1 FROM months b WHERE b.account_id = a.account_id AND b.m = a.m + INTERVAL 1 MONTH)
      AS churned
  FROM months a JOIN dims ON dims.id = a.account_id WHERE a.m >= {first} AND a.m <= {last})""",
        f"""scored AS (SELECT account_id, arg_max(probability, scored_at) AS p
  FROM store.account_churn_scores WHERE scored_at <= {as_of} GROUP BY account_id)""",
        f"""modelled AS (SELECT {lead}avg(s.p) AS p, count(*) AS k
  FROM (SELECT DISTINCT {lead}account_id FROM cm) c JOIN scored s ON s.account_id = c.account_id
  {"GROUP BY " + g if g else ""})""",
        f"""measured AS (SELECT {lead}sum(gm) AS margin, count(*) AS months,
    count(*) FILTER (WHERE mature) AS d, count(*) FILTER (WHERE mature AND churned) AS n,
    count(*) FILTER (WHERE NOT mature) AS i, count(*) FILTER (WHERE miss) AS miss,
    min(miss_key) FILTER (WHERE miss) AS miss_key
  FROM cm {"GROUP BY " + g if g else ""})""",
    ]
    on = " AND ".join(f"a.g_{d} = b.g_{d}" for d in dims) or "TRUE"
    order = f" ORDER BY {', '.join(f'a.g_{d}' for d in dims)}" if dims else ""
    body = f"SELECT a.*, b.p AS model_p, b.k AS model_k FROM measured a LEFT JOIN modelled b ON {on}{order}"
    return rel.with_clause(ctes) + body, q.params


def _money(value: float | None, sl: Slice) -> float | None:
    return None if value is None else round(float(value), rel.exponent(sl.workspace.currency))


def _ltv_rows(url: str, sl: Slice, dims: tuple[str, ...]) -> list[dict[str, Any]]:
    """One dict per group: group, monthly margin, churn, its source, ltv, immature months."""
    sql, params = _sql(sl, dims)
    out = []
    for row in snapshot.rows(url, sql, params):
        if row["miss"]:
            currency, _, day = str(row["miss_key"]).partition(" ")
            raise ValidationFailed(
                translate("analytics.error.missing_rate", currency=currency, date=day),
                detail={"currency": currency, "date": day},
            )
        months = int(row["months"] or 0)
        if months == 0:
            continue
        margin = float(row["margin"] or 0.0) / months
        churn: float | None
        if row["model_k"]:
            churn, source = float(row["model_p"]), "model"
        else:
            mature = int(row["d"] or 0)
            churn, source = (int(row["n"]) / mature if mature else None), "measured"
        ltv = margin / churn if churn else None
        out.append(
            {
                "group": {d: row[f"g_{d}"] for d in dims},
                "margin": margin,
                "churn": churn,
                "source": source,
                "ltv": ltv,
                "immature": int(row["i"] or 0),
            }
        )
    return out


def results(url: str, metric: Metric, sl: Slice, cac: Any) -> list[dict[str, Any]]:
    """The metric's results in the JSON shape of SPEC section 7; `cac(sl)` gives the unsliced CAC result."""
    for dim in (*sl.by, *sl.where):
        check_dimension(dim, metric.dimensions)
    dims = sl.by
    base = {"unit": metric.unit, "currency": None, "low": None, "high": None, "immature": None}
    found = _ltv_rows(url, sl, dims)
    if metric.name == "ltv_predictive":
        return [
            {
                "metric": metric.name,
                "group": r["group"],
                **base,
                "value": _money(r["ltv"], sl),
                "currency": sl.workspace.currency,
                "numerator": _money(r["margin"], sl),
                "denominator": r["churn"],
                "immature": r["immature"],
                "figures": {
                    "monthly_margin": _money(r["margin"], sl),
                    "monthly_churn": r["churn"],
                    "churn_source": r["source"],
                },
            }
            for r in found
        ]
    acquisition = cac(sl)
    cost = acquisition["value"] if acquisition else None
    whole = found[0] if found else None
    margin = whole["margin"] if whole else None
    ltv = whole["ltv"] if whole else None
    figures = {
        "ltv": _money(ltv, sl),
        "cac": cost,
        "monthly_margin": _money(margin, sl),
        "monthly_churn": whole["churn"] if whole else None,
        "churn_source": whole["source"] if whole else None,
    }
    if metric.name == "ltv_cac":
        value = ltv / cost if ltv is not None and cost else None
        numerator, denominator = _money(ltv, sl), cost
    else:  # payback_months
        value = cost / margin if cost is not None and margin else None
        numerator, denominator = cost, _money(margin, sl)
    if value is None and numerator is None and denominator is None:
        return []
    return [
        {
            "metric": metric.name,
            "group": {},
            **base,
            "value": value,
            "currency": sl.workspace.currency,
            "numerator": numerator,
            "denominator": denominator,
            "figures": figures,
        }
    ]
