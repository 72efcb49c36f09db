"""Every declared metric is complete (three languages, a unit) and compiles for each of its dimensions."""

from __future__ import annotations

import pytest

from closedloop.analytics import compile as comp
from closedloop.analytics.declarations import METRICS, UNITS
from closedloop.analytics.slicing import Workspace, make_slice

SPEC_METRICS = {
    "stage_count", "conversion", "velocity", "lead_to_customer_rate", "win_rate", "avg_deal_size", "sales_cycle",
    "pipeline_created", "weighted_pipeline", "pipeline_as_of", "quota_attainment", "spend", "cpl", "cost_per_mql",
    "cost_per_sql", "cac", "ltv_historical", "roi", "roas", "retention", "churn_rate", "csat", "sla_compliance",
    "response_time", "rejection_rate", "data_quality", "goal_attainment", "ltv_predictive", "ltv_cac",
    "payback_months", "won_amount",
}  # fmt: skip


def test_declarations_are_complete() -> None:
    assert set(METRICS) >= SPEC_METRICS
    for m in METRICS.values():
        assert m.unit in UNITS
        assert all(m.descriptions.get(lang) for lang in ("en", "zh-TW", "zh-CN")), m.name


@pytest.mark.parametrize("name", sorted(n for n, m in METRICS.items() if m.kind not in ("goal", "derived")))
def test_each_metric_compiles_for_each_dimension(name: str) -> None:
    m = METRICS[name]
    for dim in (None, *m.dimensions):
        sl = make_slice(Workspace(), by=(dim,) if dim else (), where=[f"{dim}=x"] if dim else None)
        compiled = comp.compile_metric(m, sl, from_stage="mql", to_stage="sql")
        sql = comp.aggregate_sql(compiled)
        assert "facts" in sql and all(f"${p}" in sql for p in compiled.sql.params)


def test_predictive_ltv_builds_for_each_dimension() -> None:
    from closedloop.analytics import ltv

    m = METRICS["ltv_predictive"]
    for dim in (None, *m.dimensions):
        sl = make_slice(Workspace(), by=(dim,) if dim else (), where=[f"{dim}=x"] if dim else None)
        sql, params = ltv._sql(sl, sl.by)
        assert "modelled" in sql and all(f"${p}" in sql for p in params)
