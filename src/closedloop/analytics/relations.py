"""The core relations in DuckDB SQL over the attached store (`store.*`): the engine-specific part.

Every metric and the funnel are built from these common table expressions:
`ev` (live lifecycle events up to as-of), `reach` (per lead: `at_<stage>` = reached_at with the
waterfall convention and `real_<stage>`), dimension relations per subject (`dims`), and
`dlx` (deals at as-of with amounts in the reporting currency). Parameters are DuckDB named
parameters collected in a `Sql` builder, so user values never enter the SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from closedloop.analytics.slicing import Scope, Slice
from closedloop.leads.lifecycle import MAIN_LINE

STAGES: tuple[str, ...] = tuple(s.value for s in MAIN_LINE)
NONE = "(none)"
# ISO 4217 minor-unit exponents that differ from 2.
EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "PYG": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "IQD": 3,
    "LYD": 3,
}


def exponent(currency: str) -> int:
    """Minor-unit digits of an ISO 4217 currency (2 unless listed)."""
    return EXPONENTS.get(currency.upper(), 2)


def quote(text: str) -> str:
    """A SQL string literal (only for values this module controls, such as time zone names)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Sql:
    """Collects named parameters while SQL text is assembled."""

    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any, prefix: str = "p") -> str:
        name = f"{prefix}{len(self.params)}"
        self.params[name] = value
        return f"${name}"


def local(ts: str, tz: str) -> str:
    """A naive UTC timestamp expression as a naive local timestamp in zone `tz`."""
    return f"timezone({quote(tz)}, CAST({ts} AS TIMESTAMPTZ))"


def exponent_case(column: str) -> str:
    whens = " ".join(f"WHEN {quote(c)} THEN {e}" for c, e in sorted(EXPONENTS.items()))
    return f"(CASE upper({column}) {whens} ELSE 2 END)"


def stage_index_case(column: str) -> str:
    whens = " ".join(f"WHEN {quote(s)} THEN {i}" for i, s in enumerate(STAGES))
    return f"(CASE {column} {whens} END)"


REACH_END = "/*reach:end*/"


def reach_ctes(q: Sql, sl: Slice, *, real: bool = True) -> list[str]:
    """`ev` and `reach`: reached_at(s) per lead and (with `real`) whether each reach is a real event.

    The CTEs are wrapped in `/*reach:<as-of>*/ ... /*reach:end*/`: when the analytics snapshot
    holds every event up to that as-of, it swaps them for the reach table it computed once
    (`snapshot.REACH_TABLE`, the same SQL without the as-of bound).
    """
    ctes = _reach(q.bind(sl.as_of_naive, "asof"), real=real)
    ctes[0] = f"/*reach:{sl.as_of_naive.isoformat()}*/" + ctes[0]
    ctes[-1] += REACH_END
    return ctes


def reach_table_sql() -> str:
    """`reach` over every event (no as-of bound), with the real flags: what the snapshot keeps."""
    return with_clause(_reach(None, real=True)) + "SELECT * FROM reach"


def _reach(as_of: str | None, *, real: bool) -> list[str]:
    stages = ", ".join(quote(s) for s in STAGES)
    bound = "TRUE" if as_of is None else f"CAST(occurred_at AS TIMESTAMP) <= {as_of}"
    cols = []
    for i, s in enumerate(STAGES):
        cols.append(f"min(ts) FILTER (WHERE idx >= {i}) AS at_{s}")
        if real:
            cols.append(
                f"coalesce(min(ts) FILTER (WHERE idx = {i} AND NOT implied) = min(ts) FILTER (WHERE idx >= {i}), false)"
                f" AS real_{s}"
            )
    return [
        f"""raw_ev AS MATERIALIZED (
  SELECT id, lead_id, to_stage, CAST(occurred_at AS TIMESTAMP) AS ts, CAST(implied AS BOOLEAN) AS implied,
    voids_id
  FROM store.lifecycle_events WHERE {bound})""",
        f"""ev AS (
  SELECT r.lead_id, r.ts, r.implied, {stage_index_case("r.to_stage")} AS idx FROM raw_ev r
  WHERE r.to_stage IN ({stages}) AND r.id NOT IN (SELECT voids_id FROM raw_ev WHERE voids_id IS NOT NULL))""",
        f"reach AS (SELECT lead_id, {', '.join(cols)} FROM ev GROUP BY lead_id)",
    ]


# Subjects: the table behind a metric's rows, how it reaches a lead, an account, an owner, a team.
SUBJECTS: dict[str, dict[str, str]] = {
    "lead": {
        "from": "store.leads l",
        "key": "l.id",
        "owner": "l.owner_id",
        "team": "l.team_id",
        "account": "l.account_id",
        "where": "l.merged_into_id IS NULL",
    },
    "deal": {
        "from": "store.deals d LEFT JOIN store.leads l ON l.id = d.lead_id",
        "key": "d.id",
        "owner": "d.owner_id",
        "team": "d.team_id",
        "account": "d.account_id",
        "where": "TRUE",
    },
    "handoff": {
        "from": "store.handoffs h JOIN store.leads l ON l.id = h.lead_id",
        "key": "h.id",
        "owner": "h.owner_id",
        "team": "h.team_id",
        "account": "l.account_id",
        "where": "TRUE",
    },
    "feedback": {
        "from": "store.customer_feedback f LEFT JOIN store.leads l ON l.id = f.lead_id",
        "key": "f.id",
        "owner": "a.owner_id",
        "team": "NULL",
        "account": "coalesce(f.account_id, l.account_id)",
        "where": "TRUE",
    },
    "account": {
        "from": "store.accounts a",
        "key": "a.id",
        "owner": "a.owner_id",
        "team": "NULL",
        "account": "a.id",
        "where": "TRUE",
    },
}
_LEAD_COLUMNS = {
    "channel": "l.first_channel",
    "utm_source": "l.first_utm_source",
    "utm_medium": "l.first_utm_medium",
    "utm_campaign": "l.first_utm_campaign",
    "utm_content": "l.first_utm_content",
    "landing_page": "l.first_landing_page",
    "source_type": "l.source_type",
    "lead_type": "l.lead_type",
    "score_band": "l.score_band",
}
COMPANY = ("region", "country", "industry", "company_size")


def dimension_expr(subject: str, dim: str, tz: str) -> tuple[str, set[str]]:
    """(SQL expression, joins needed) of one dimension for a subject's row."""
    if dim in _LEAD_COLUMNS:
        return _LEAD_COLUMNS[dim], set()
    if subject == "account":  # a customer company: its own columns, cohort from becoming a customer
        if dim in COMPANY:
            return f"a.{dim}", set()
        if dim in ("cohort_week", "cohort_month"):
            pattern = "%G-W%V" if dim == "cohort_week" else "%Y-%m"
            return f"strftime({local('a.became_customer_at', tz)}, '{pattern}')", set()
    if dim in COMPANY:
        if subject in ("deal", "feedback"):  # a deal without a lead still has its company
            return f"coalesce(l.{dim}, a.{dim})", {"account"}
        return f"l.{dim}", set()
    if dim == "campaign":
        return "c.name", {"campaign"}
    if dim == "owner":
        return "u.email", {"owner"} | ({"account"} if subject == "feedback" else set())
    if dim == "team":
        return "t.name", {"team"}
    if dim == "product":
        return "p.name", {"product"}
    if dim == "cohort_week":
        return f"strftime({local('l.created_at', tz)}, '%G-W%V')", set()
    if dim == "cohort_month":
        return f"strftime({local('l.created_at', tz)}, '%Y-%m')", set()
    raise ValueError(f"dimension {dim} is not defined for {subject}")


def dims_cte(q: Sql, sl: Slice, subject: str, dims: tuple[str, ...], name: str = "dims") -> str:
    """`name(id, g_<dim>...)`: one row per subject record with its dimension values, filtered and scoped."""
    spec = SUBJECTS[subject]
    joins: set[str] = set()
    exprs: dict[str, str] = {}
    wanted = tuple(dict.fromkeys((*dims, *sl.where)))
    for dim in wanted:
        expr, need = dimension_expr(subject, dim, sl.workspace.time_zone)
        joins |= need
        exprs[dim] = f"coalesce(nullif(CAST({expr} AS VARCHAR), ''), {quote(NONE)})"
    join_sql = {
        "account": f"LEFT JOIN store.accounts a ON a.id = {spec['account']}",
        "campaign": "LEFT JOIN store.campaigns c ON c.id = l.first_campaign_id",
        "owner": f"LEFT JOIN store.users u ON u.id = {spec['owner']}",
        "team": f"LEFT JOIN store.teams t ON t.id = {spec['team']}",
        "product": "LEFT JOIN store.products p ON p.id = d.product_id",
    }
    if sl.scope is not None and subject == "feedback":
        joins.add("account")
    if subject == "account":
        joins.discard("account")
    order = ("account", "campaign", "owner", "team", "product")
    from_sql = spec["from"] + "".join(f"\n  {join_sql[j]}" for j in order if j in joins)
    conditions = [spec["where"]]
    for dim, values in sl.where.items():
        marks = ", ".join(q.bind(v, "w") for v in values)
        conditions.append(f"{exprs[dim]} IN ({marks})")
    if sl.scope is not None:
        conditions.append(scope_condition(q, sl.scope, spec["owner"], spec["team"]))
    select = ", ".join([f"{spec['key']} AS id", *(f"{exprs[d]} AS g_{d}" for d in dims)])
    return f"{name} AS (SELECT {select}\n  FROM {from_sql}\n  WHERE {' AND '.join(conditions)})"


def scope_condition(q: Sql, scope: Scope, owner_col: str, team_col: str) -> str:
    """Rows the caller may see (the access issue supplies the scope)."""
    parts = []
    if scope.owner_ids:
        parts.append(f"{owner_col} IN ({', '.join(q.bind(i, 's') for i in sorted(scope.owner_ids))})")
    if scope.team_ids:
        parts.append(f"{team_col} IN ({', '.join(q.bind(i, 's') for i in sorted(scope.team_ids))})")
    return "(" + (" OR ".join(parts) or "FALSE") + ")"


def fx_cte() -> str:
    return """fx AS (SELECT upper(currency) AS currency, CAST(rate_date AS DATE) AS rate_date,
  CAST(rate_to_reporting AS DOUBLE) AS rate FROM store.exchange_rates)"""


def convert(amount_minor: str, currency: str, rate: str, sl: Slice) -> str:
    """Minor units of `currency` as major units of the reporting currency at `rate`."""
    return f"(CAST({amount_minor} AS DOUBLE) / power(10, {exponent_case(currency)}) * {rate})"


def deal_ctes(q: Sql, sl: Slice, *, with_fx: bool = True) -> list[str]:
    """`dlx`: deals created by as-of, their status at as-of and amounts in the reporting currency."""
    as_of = q.bind(sl.as_of_naive, "asof")
    cur = q.bind(sl.workspace.currency.upper(), "cur")
    tz = sl.workspace.time_zone
    return [
        *([fx_cte()] if with_fx else []),
        f"""dl AS (
  SELECT d.id, d.lead_id, d.stage, upper(d.currency) AS currency, d.amount_minor,
    CAST(d.created_at AS TIMESTAMP) AS created_at, CAST(d.closed_at AS TIMESTAMP) AS closed_at,
    CASE WHEN d.status IN ('won', 'lost') AND d.closed_at IS NOT NULL
      AND CAST(d.closed_at AS TIMESTAMP) <= {as_of} THEN d.status ELSE 'open' END AS status_at
  FROM store.deals d WHERE CAST(d.created_at AS TIMESTAMP) <= {as_of})""",
        f"""dld AS (
  SELECT *, CAST(CASE WHEN status_at = 'open' THEN {local(as_of, tz)} ELSE {local("closed_at", tz)} END AS DATE)
    AS rate_date FROM dl)""",
        f"""dlx AS (
  SELECT dld.*, CASE WHEN dld.currency = {cur} THEN 1.0 ELSE fx.rate END AS rate,
    {convert("dld.amount_minor", "dld.currency", f"(CASE WHEN dld.currency = {cur} THEN 1.0 ELSE fx.rate END)", sl)}
      AS amount
  FROM dld ASOF LEFT JOIN fx ON dld.currency = fx.currency AND dld.rate_date >= fx.rate_date)""",
    ]


def with_clause(ctes: list[str]) -> str:
    return "WITH " + ",\n".join(ctes) + "\n"
