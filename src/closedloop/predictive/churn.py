"""Customer churn risk: point-in-time account features from revenue, activities and feedback.

An account is *active* at a moment when a revenue document dated at or before it still covers it
(a subscription's period, else 30 days after an invoice or order), with a 7-day grace for
renewals. A monthly example is (account, month start m) for an account active at m; it churned
when it is no longer active one month later. Features read only documents dated at or before m.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from closedloop.predictive.features import _naive

if TYPE_CHECKING:
    import pandas as pd

CATEGORICAL = ["industry", "company_size", "region", "country"]
NUMERIC = [
    "tenure_months",
    "revenue_3m",
    "revenue_prior_3m",
    "revenue_12m",
    "documents_12m",
    "refunds_12m",
    "days_since_last_document",
    "covered_days_ahead",
    "has_subscription",
    "activities_90d",
    "feedback_score_180d",
    "feedback_count_180d",
]

_COVER = """
cover AS (
  SELECT r.account_id, CAST(r.occurred_at AS TIMESTAMP) AS occurred_at, r.kind, r.amount_minor,
    coalesce(CAST(r.period_end AS TIMESTAMP), CAST(r.occurred_at AS TIMESTAMP) + INTERVAL 30 DAY)
      + INTERVAL 7 DAY AS covered_until
  FROM store.revenue_events r
  WHERE r.account_id IS NOT NULL AND r.kind IN ('invoice', 'order', 'subscription') AND r.amount_minor > 0
)"""

TRAINING_SQL = f"""
WITH {_COVER},
first AS (SELECT account_id, min(occurred_at) AS first_at FROM cover GROUP BY account_id),
grid AS (
  SELECT f.account_id, CAST(g.m AS TIMESTAMP) AS moment
  FROM first f, LATERAL (SELECT unnest(generate_series(date_trunc('month', f.first_at) + INTERVAL 1 MONTH,
                                                        $as_of - INTERVAL 1 MONTH, INTERVAL 1 MONTH)) AS m) g
), active AS (
  SELECT g.account_id, g.moment FROM grid g
  WHERE EXISTS (SELECT 1 FROM cover c WHERE c.account_id = g.account_id
                AND c.occurred_at <= g.moment AND c.covered_until >= g.moment)
)
SELECT a.account_id, a.moment,
  CASE WHEN EXISTS (SELECT 1 FROM cover c WHERE c.account_id = a.account_id
        AND c.occurred_at <= a.moment + INTERVAL 1 MONTH AND c.covered_until >= a.moment + INTERVAL 1 MONTH)
       THEN 0 ELSE 1 END AS label
FROM active a ORDER BY a.account_id, a.moment
"""

ACTIVE_SQL = f"""
WITH {_COVER}
SELECT DISTINCT account_id, CAST($moment AS TIMESTAMP) AS moment FROM cover
WHERE occurred_at <= $moment AND covered_until >= $moment ORDER BY account_id
"""

FEATURE_SQL = f"""
WITH {_COVER},
rev AS (
  SELECT m.account_id, m.moment,
    min(c.occurred_at) AS first_at,
    sum(c.amount_minor) FILTER (WHERE c.occurred_at > m.moment - INTERVAL 90 DAY) AS revenue_3m,
    sum(c.amount_minor) FILTER (WHERE c.occurred_at > m.moment - INTERVAL 180 DAY
                                AND c.occurred_at <= m.moment - INTERVAL 90 DAY) AS revenue_prior_3m,
    sum(c.amount_minor) FILTER (WHERE c.occurred_at > m.moment - INTERVAL 365 DAY) AS revenue_12m,
    count(*) FILTER (WHERE c.occurred_at > m.moment - INTERVAL 365 DAY) AS documents_12m,
    max(c.occurred_at) AS last_at,
    max(c.covered_until) AS covered_until,
    max(CASE WHEN c.kind = 'subscription' THEN 1 ELSE 0 END) AS has_subscription
  FROM moments m JOIN cover c ON c.account_id = m.account_id AND c.occurred_at <= m.moment
  GROUP BY m.account_id, m.moment
), refunds AS (
  SELECT m.account_id, m.moment, count(*) AS refunds_12m
  FROM moments m JOIN store.revenue_events r ON r.account_id = m.account_id
    AND r.kind IN ('refund', 'void') AND CAST(r.occurred_at AS TIMESTAMP) <= m.moment
    AND CAST(r.occurred_at AS TIMESTAMP) > m.moment - INTERVAL 365 DAY
  GROUP BY m.account_id, m.moment
), acts AS (
  SELECT m.account_id, m.moment, count(*) AS activities_90d
  FROM moments m
  JOIN store.activities x ON CAST(x.occurred_at AS TIMESTAMP) <= m.moment
    AND CAST(x.occurred_at AS TIMESTAMP) > m.moment - INTERVAL 90 DAY
  LEFT JOIN store.leads l ON l.id = x.lead_id
  LEFT JOIN store.deals d ON d.id = x.deal_id
  WHERE coalesce(d.account_id, l.account_id) = m.account_id
  GROUP BY m.account_id, m.moment
), fb AS (
  SELECT m.account_id, m.moment, avg(CAST(f.score AS DOUBLE) / f.scale_max) AS feedback_score_180d,
    count(*) AS feedback_count_180d
  FROM moments m JOIN store.customer_feedback f ON f.account_id = m.account_id
    AND CAST(f.occurred_at AS TIMESTAMP) <= m.moment
    AND CAST(f.occurred_at AS TIMESTAMP) > m.moment - INTERVAL 180 DAY
  GROUP BY m.account_id, m.moment
)
SELECT m.account_id, m.moment,
  coalesce(a.industry, '(none)') AS industry, coalesce(a.company_size, '(none)') AS company_size,
  coalesce(a.region, '(none)') AS region, coalesce(a.country, '(none)') AS country,
  (epoch(m.moment) - epoch(r.first_at)) / 86400.0 / 30.4375 AS tenure_months,
  coalesce(r.revenue_3m, 0) / 100.0 AS revenue_3m, coalesce(r.revenue_prior_3m, 0) / 100.0 AS revenue_prior_3m,
  coalesce(r.revenue_12m, 0) / 100.0 AS revenue_12m, coalesce(r.documents_12m, 0) AS documents_12m,
  coalesce(rf.refunds_12m, 0) AS refunds_12m,
  (epoch(m.moment) - epoch(r.last_at)) / 86400.0 AS days_since_last_document,
  greatest(epoch(r.covered_until) - epoch(m.moment), 0) / 86400.0 AS covered_days_ahead,
  coalesce(r.has_subscription, 0) AS has_subscription,
  coalesce(ac.activities_90d, 0) AS activities_90d,
  fb.feedback_score_180d, coalesce(fb.feedback_count_180d, 0) AS feedback_count_180d
FROM moments m
JOIN store.accounts a ON a.id = m.account_id
LEFT JOIN rev r ON r.account_id = m.account_id AND r.moment = m.moment
LEFT JOIN refunds rf ON rf.account_id = m.account_id AND rf.moment = m.moment
LEFT JOIN acts ac ON ac.account_id = m.account_id AND ac.moment = m.moment
LEFT JOIN fb ON fb.account_id = m.account_id AND fb.moment = m.moment
ORDER BY m.account_id, m.moment
"""


def _run(url: str, sql: str, params: dict[str, object], moments: pd.DataFrame | None = None) -> pd.DataFrame:
    from closedloop.analytics import engine

    cursor = engine.connect(url).cursor()
    try:
        if moments is not None:
            cursor.register("moments", moments[["account_id", "moment"]])
        return cursor.execute(sql, params).fetch_df()
    finally:
        cursor.close()


def training_moments(url: str, *, as_of: datetime) -> pd.DataFrame:
    """(account, month start) examples active then, labelled 1 when churned within a month."""
    return _run(url, TRAINING_SQL, {"as_of": _naive(as_of)})


def active_accounts(url: str, *, moment: datetime) -> pd.DataFrame:
    """Accounts active at `moment`, one row each (account_id, moment)."""
    return _run(url, ACTIVE_SQL, {"moment": _naive(moment)})


def churn_features(url: str, moments: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time features of each (account_id, moment) row."""
    return _run(url, FEATURE_SQL, {}, moments)
