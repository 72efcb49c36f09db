"""Point-in-time lead features, computed by DuckDB for (lead, moment) pairs.

Every feature is declared with the store columns it reads. Event tables are joined only on rows
that happened at or before the moment being scored, so nothing after that moment can change a
feature. The guard refuses declarations that read outcome columns (stage, deals, closing dates,
the current scores) or personal traits (names, contact data, guessed gender or age).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

if TYPE_CHECKING:
    import pandas as pd

# Columns whose value is the outcome, or is decided after the moment being scored.
OUTCOME_COLUMNS = frozenset(
    {
        "leads.stage",
        "leads.score",
        "leads.score_band",
        "leads.predicted_probability",
        "leads.updated_at",
        "leads.merged_into_id",
        "lifecycle_events.to_stage",
        "deals.status",
        "deals.stage",
        "deals.closed_at",
        "deals.amount_minor",
        "deals.lost_reason",
        "accounts.became_customer_at",
        "handoffs.accepted_at",
        "handoffs.rejected_at",
        "handoffs.rejection_reason",
        "handoffs.status",
        "revenue_events.amount_minor",
    }
)
# Personal traits are never features, whatever they might predict.
PERSONAL_COLUMNS = frozenset(
    {
        "leads.first_name",
        "leads.last_name",
        "leads.name",
        "leads.email",
        "leads.phone",
        "leads.line_user_id",
        "leads.wechat_unionid",
        "leads.title",
        "leads.gender",
        "leads.age",
    }
)
# Tables read through the point-in-time join (rows at or before the moment only).
EVENT_TABLES = frozenset({"touchpoints", "handoffs", "lifecycle_events"})


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: its name, kind (categorical or numeric) and the store columns it reads."""

    name: str
    kind: str  # categorical | numeric
    columns: tuple[str, ...]
    sql: str


class LeakageRefused(ValidationFailed):
    """A feature reads an outcome, the future or a personal trait."""


def check_features(specs: list[FeatureSpec]) -> None:
    """Refuse any feature reading an outcome column, a personal trait, or an undated event table."""
    for spec in specs:
        for column in spec.columns:
            table = column.split(".", 1)[0]
            if column in OUTCOME_COLUMNS or column.endswith(".closed_at"):
                raise LeakageRefused(translate("predictive.error.leaking", feature=spec.name, column=column))
            if column in PERSONAL_COLUMNS or column.split(".")[-1] in {"gender", "age", "first_name"}:
                raise LeakageRefused(translate("predictive.error.personal", feature=spec.name, column=column))
            if table not in EVENT_TABLES and table not in {"leads", "moment"}:
                raise LeakageRefused(translate("predictive.error.undated", feature=spec.name, column=column))


def _first(column: str, value: str) -> str:
    # The first touch is known only once it has happened.
    return f"CASE WHEN l.first_touch_at <= m.moment THEN coalesce(CAST({value} AS VARCHAR), '(none)') ELSE '(none)' END"


LEAD_FEATURES: list[FeatureSpec] = [
    FeatureSpec("industry", "categorical", ("leads.industry",), "coalesce(l.industry, '(none)')"),
    FeatureSpec("company_size", "categorical", ("leads.company_size",), "coalesce(l.company_size, '(none)')"),
    FeatureSpec("region", "categorical", ("leads.region",), "coalesce(l.region, '(none)')"),
    FeatureSpec("country", "categorical", ("leads.country",), "coalesce(l.country, '(none)')"),
    FeatureSpec("lead_type", "categorical", ("leads.lead_type",), "coalesce(l.lead_type, '(none)')"),
    FeatureSpec("source_type", "categorical", ("leads.source_type",), "coalesce(l.source_type, '(none)')"),
    FeatureSpec("first_channel", "categorical", ("leads.first_channel", "leads.first_touch_at"),
                _first("channel", "l.first_channel")),
    FeatureSpec("first_campaign", "categorical", ("leads.first_campaign_id", "leads.first_touch_at"),
                _first("campaign", "l.first_campaign_id")),
    FeatureSpec("first_landing_page", "categorical", ("leads.first_landing_page", "leads.first_touch_at"),
                _first("landing", "l.first_landing_page")),
    FeatureSpec("month", "categorical", ("moment.moment",), "CAST(month(m.moment) AS VARCHAR)"),
    FeatureSpec("stage_at_moment", "categorical", ("lifecycle_events.to_stage@moment",),
                "coalesce(s.stage_at_moment, 'lead')"),
    FeatureSpec("lead_age_days", "numeric", ("leads.created_at", "moment.moment"),
                "greatest(epoch(m.moment) - epoch(CAST(l.created_at AS TIMESTAMP)), 0) / 86400.0"),
    FeatureSpec("touches", "numeric", ("touchpoints.occurred_at",), "coalesce(t.touches, 0)"),
    FeatureSpec("touches_30d", "numeric", ("touchpoints.occurred_at",), "coalesce(t.touches_30d, 0)"),
    FeatureSpec("page_views", "numeric", ("touchpoints.type",), "coalesce(t.page_views, 0)"),
    FeatureSpec("ad_clicks", "numeric", ("touchpoints.type",), "coalesce(t.ad_clicks, 0)"),
    FeatureSpec("form_submits", "numeric", ("touchpoints.type",), "coalesce(t.form_submits, 0)"),
    FeatureSpec("email_engagements", "numeric", ("touchpoints.type",), "coalesce(t.email_engagements, 0)"),
    FeatureSpec("events_attended", "numeric", ("touchpoints.type",), "coalesce(t.events_attended, 0)"),
    FeatureSpec("messages", "numeric", ("touchpoints.type",), "coalesce(t.messages, 0)"),
    FeatureSpec("days_since_last_touch", "numeric", ("touchpoints.occurred_at",),
                "(epoch(m.moment) - epoch(t.last_touch_at)) / 86400.0"),
    FeatureSpec("response_hours", "numeric", ("handoffs.first_response_at", "handoffs.assigned_at"),
                "h.response_hours"),
    FeatureSpec("awaiting_response_hours", "numeric", ("handoffs.assigned_at", "handoffs.first_response_at"),
                "h.awaiting_hours"),
]  # fmt: skip


def _ts(column: str) -> str:
    return f"CAST({column} AS TIMESTAMP)"


def lead_feature_sql(specs: list[FeatureSpec]) -> str:
    """The DuckDB query computing `specs` for every row of the registered `moments` relation."""
    check_features(specs)
    selected = ",\n  ".join(f"{spec.sql} AS {spec.name}" for spec in specs)
    occurred = _ts("tp.occurred_at")
    return f"""
WITH t AS (
  SELECT m.lead_id, m.moment,
    count(*) AS touches,
    count(*) FILTER (WHERE {occurred} > m.moment - INTERVAL 30 DAY) AS touches_30d,
    count(*) FILTER (WHERE tp.type = 'page_view') AS page_views,
    count(*) FILTER (WHERE tp.type = 'ad_click') AS ad_clicks,
    count(*) FILTER (WHERE tp.type = 'form_submit') AS form_submits,
    count(*) FILTER (WHERE tp.type IN ('email_open', 'email_click')) AS email_engagements,
    count(*) FILTER (WHERE tp.type IN ('webinar', 'event')) AS events_attended,
    count(*) FILTER (WHERE tp.type IN ('chat', 'line_message', 'wechat_message')) AS messages,
    max({occurred}) AS last_touch_at
  FROM moments m JOIN store.touchpoints tp ON tp.lead_id = m.lead_id AND {occurred} <= m.moment
  GROUP BY m.lead_id, m.moment
), h AS (
  SELECT m.lead_id, m.moment,
    min(CASE WHEN {_ts("x.first_response_at")} <= m.moment
        THEN (epoch({_ts("x.first_response_at")}) - epoch({_ts("x.assigned_at")})) / 3600.0 END) AS response_hours,
    max(CASE WHEN x.first_response_at IS NULL OR {_ts("x.first_response_at")} > m.moment
        THEN (epoch(m.moment) - epoch({_ts("x.assigned_at")})) / 3600.0 END) AS awaiting_hours
  FROM moments m JOIN store.handoffs x ON x.lead_id = m.lead_id AND {_ts("x.assigned_at")} <= m.moment
  GROUP BY m.lead_id, m.moment
), live AS (
  SELECT e.lead_id, e.to_stage, {_ts("e.occurred_at")} AS occurred_at, e.id
  FROM store.lifecycle_events e
  WHERE e.voids_id IS NULL
    AND e.id NOT IN (SELECT v.voids_id FROM store.lifecycle_events v WHERE v.voids_id IS NOT NULL)
), s AS (
  SELECT m.lead_id, m.moment, arg_max(e.to_stage, (e.occurred_at, e.id)) AS stage_at_moment
  FROM moments m JOIN live e ON e.lead_id = m.lead_id AND e.occurred_at <= m.moment
  GROUP BY m.lead_id, m.moment
)
SELECT m.lead_id, m.moment,
  {selected}
FROM moments m
JOIN store.leads l ON l.id = m.lead_id
LEFT JOIN t ON t.lead_id = m.lead_id AND t.moment = m.moment
LEFT JOIN h ON h.lead_id = m.lead_id AND h.moment = m.moment
LEFT JOIN s ON s.lead_id = m.lead_id AND s.moment = m.moment
ORDER BY m.lead_id, m.moment
"""


def lead_features(url: str, moments: pd.DataFrame, specs: list[FeatureSpec] | None = None) -> pd.DataFrame:
    """Features of each (lead_id, moment) row; moments are naive UTC timestamps."""
    from closedloop.analytics import engine

    sql = lead_feature_sql(specs or LEAD_FEATURES)
    cursor = engine.connect(url).cursor()
    try:
        cursor.register("moments", moments[["lead_id", "moment"]])
        return cursor.execute(sql).fetch_df()
    finally:
        cursor.close()


OUTCOME_SQL = """
WITH live AS (
  SELECT e.lead_id, e.to_stage, CAST(e.occurred_at AS TIMESTAMP) AS occurred_at, e.id
  FROM store.lifecycle_events e
  WHERE e.voids_id IS NULL AND CAST(e.occurred_at AS TIMESTAMP) <= $as_of
    AND e.id NOT IN (SELECT v.voids_id FROM store.lifecycle_events v WHERE v.voids_id IS NOT NULL)
), per AS (
  SELECT lead_id,
    min(occurred_at) FILTER (WHERE to_stage IN (SELECT unnest($reach))) AS positive_at,
    min(occurred_at) FILTER (WHERE to_stage IN ('lost', 'disqualified', 'recycled')) AS terminal_at,
    arg_max(to_stage, (occurred_at, id)) AS last_stage
  FROM live GROUP BY lead_id
), labelled AS (
  SELECT l.id AS lead_id, CAST(l.created_at AS TIMESTAMP) AS created_at,
    CASE WHEN p.positive_at IS NOT NULL THEN 1
         WHEN p.last_stage IN ('lost', 'disqualified')
           OR CAST(l.created_at AS TIMESTAMP) <= $as_of - to_days($horizon) THEN 0 END AS label,
    CASE WHEN p.positive_at IS NOT NULL THEN p.positive_at
         ELSE coalesce(p.terminal_at, CAST(l.created_at AS TIMESTAMP) + to_days($horizon)) END AS decided_at
  FROM store.leads l LEFT JOIN per p ON p.lead_id = l.id
  WHERE l.merged_into_id IS NULL AND NOT coalesce(CAST(l.is_spam AS BOOLEAN), false) AND CAST(l.created_at AS TIMESTAMP) <= $as_of
)
SELECT lead_id, label, created_at, decided_at,
  -- A moment drawn uniformly (a fixed hash of the lead) between creation and the decision.
  to_timestamp(epoch(created_at) + ((hash(lead_id * 7919 + $seed) % 10000) / 10000.0)
    * greatest(epoch(least(decided_at, $as_of)) - epoch(created_at), 0))::TIMESTAMP AS moment
FROM labelled WHERE label IS NOT NULL
ORDER BY lead_id
"""

REACH = {"won": ["customer"], "sql": ["sql", "opportunity", "customer"]}
OPEN_STAGES = {
    "won": ("lead", "mql", "sal", "sql", "opportunity", "recycled"),
    "sql": ("lead", "mql", "sal", "recycled"),
}


def labelled_moments(
    url: str, *, target: str, as_of: datetime, horizon_days: int, seed: int = 0
) -> pd.DataFrame:
    """Leads with a known outcome by `as_of`: label, and the moment at which each is scored."""
    from closedloop.analytics import engine

    cursor = engine.connect(url).cursor()
    try:
        params = {"as_of": _naive(as_of), "reach": REACH[target], "horizon": horizon_days, "seed": seed}
        return cursor.execute(OUTCOME_SQL, params).fetch_df()
    finally:
        cursor.close()


def open_leads(url: str, *, target: str) -> list[int]:
    """Ids of leads whose outcome is still open (the ones worth a predictive score)."""
    from closedloop.analytics import engine

    stages = ", ".join(f"'{s}'" for s in OPEN_STAGES[target])
    sql = f"SELECT id FROM store.leads WHERE merged_into_id IS NULL AND stage IN ({stages}) ORDER BY id"
    return [int(v) for v in engine.query(url, sql).column("id").to_pylist()]


def _naive(moment: datetime) -> datetime:
    """A naive UTC datetime, as DuckDB compares store timestamps."""
    from datetime import UTC

    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
