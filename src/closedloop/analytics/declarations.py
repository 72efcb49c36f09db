"""The shared scorecard, declared once (SPEC section 5): every caller asks these declarations.

A declaration says what a metric means (three languages), its unit, what its numerator and
denominator count, which time field places a row in the period, and which dimensions it can
be sliced by. `closedloop.analytics.compile` turns a declaration into engine SQL; the CLI,
the API, pages and reports never recompute a number their own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LEAD_DIMENSIONS: tuple[str, ...] = (
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "campaign",
    "landing_page",
    "source_type",
    "region",
    "country",
    "industry",
    "company_size",
    "lead_type",
    "owner",
    "team",
    "cohort_week",
    "cohort_month",
    "score_band",
)
DEAL_DIMENSIONS: tuple[str, ...] = (*LEAD_DIMENSIONS, "product")
DIMENSIONS: tuple[str, ...] = DEAL_DIMENSIONS
SPEND_DIMENSIONS: tuple[str, ...] = ("channel", "campaign")
FEEDBACK_DIMENSIONS: tuple[str, ...] = ("region", "country", "industry", "company_size", "owner")
ACCOUNT_DIMENSIONS: tuple[str, ...] = (*FEEDBACK_DIMENSIONS, "cohort_week", "cohort_month")
PIPELINE_DIMENSIONS: tuple[str, ...] = (*DEAL_DIMENSIONS, "deal_stage", "forecast_category")
PEOPLE_DIMENSIONS: tuple[str, ...] = ("owner", "team")
# Beyond SPEC section 5's list: the open pipeline can also be cut by deal stage and forecast category.
ALL_DIMENSIONS: tuple[str, ...] = PIPELINE_DIMENSIONS

UNITS = ("ratio", "count", "days", "hours", "months", "money", "score")


@dataclass(frozen=True)
class Metric:
    """One metric of the scorecard."""

    name: str
    kind: str  # rate | count | stats | money_sum | money_mean | cost_per | pair | mean | derived | goal
    unit: str
    subject: str  # lead | deal | handoff | spend | feedback
    time_field: str
    numerator: str
    denominator: str
    descriptions: dict[str, str]
    dimensions: tuple[str, ...] = LEAD_DIMENSIONS
    needs_stages: bool = False
    options: dict[str, str] = field(default_factory=dict)


def _m(
    name: str,
    kind: str,
    unit: str,
    subject: str,
    time_field: str,
    numerator: str,
    denominator: str,
    en: str,
    tw: str,
    cn: str,
    dims: tuple[str, ...],
    **extra: Any,
) -> Metric:
    return Metric(
        name,
        kind,
        unit,
        subject,
        time_field,
        numerator,
        denominator,
        {"en": en, "zh-TW": tw, "zh-CN": cn},
        dims,
        **extra,
    )


# One metric per entry: name, kind, unit, subject, time field, numerator, denominator, en, zh-TW, zh-CN,
# dimensions. fmt: off keeps the table readable as a table.
# fmt: off
_DECLARED = (
    _m('stage_count', 'count', 'count', 'lead', 'reached_at(stage)', 'leads', '',
       'Leads whose first reach of the stage falls in the period (period mode)',
       '期間內首次到達該階段的名單數（期間模式）', '期间内首次到达该阶段的线索数（期间模式）',
       LEAD_DIMENSIONS, needs_stages=True),
    _m('conversion', 'rate', 'ratio', 'lead', 'reached_at(from_stage)', 'leads reaching to_stage within N days', 'mature leads reaching from_stage in the period',
       'Share of mature leads that reached the from-stage in the period and the to-stage within N days',
       '期間內到達起始階段的成熟名單中，N 天內到達目標階段的比例', '期间内到达起始阶段的成熟线索中，N 天内到达目标阶段的比例',
       LEAD_DIMENSIONS, needs_stages=True),
    _m('velocity', 'stats', 'days', 'lead', 'reached_at(from_stage)', 'sum of days', 'leads with real reaches of both',
       'Days from the from-stage to the to-stage (median, mean, p90), real reaches only',
       '從起始階段到目標階段的天數（中位數、平均、P90），僅計實際到達', '从起始阶段到目标阶段的天数（中位数、平均、P90），仅计实际到达',
       LEAD_DIMENSIONS, needs_stages=True),
    _m('lead_to_customer_rate', 'rate', 'ratio', 'lead', 'reached_at(lead)', 'leads becoming customers within N days', 'mature leads created in the period',
       'Conversion from lead to customer (cohort mode)',
       '名單到成交客戶的轉換率（世代模式）', '线索到成交客户的转化率（群组模式）',
       LEAD_DIMENSIONS),
    _m('win_rate', 'rate', 'ratio', 'deal', 'closed_at', 'deals won', 'deals won or lost',
       'Won / (won + lost) over deals closed in the period',
       '期間內結案商機的贏單率：贏 / (贏 + 輸)', '期间内结案商机的赢单率：赢 / (赢 + 输)',
       DEAL_DIMENSIONS),
    _m('avg_deal_size', 'money_mean', 'money', 'deal', 'closed_at', 'won amount', 'deals won',
       'Mean amount of deals won in the period (客單價)',
       '期間內贏得商機的平均金額（客單價）', '期间内赢得商机的平均金额（客单价）',
       DEAL_DIMENSIONS),
    _m('sales_cycle', 'stats', 'days', 'deal', 'closed_at', 'sum of days', 'deals won',
       'Median days from deal created to won, over deals won in the period',
       '期間內贏得商機從建立到成交的天數中位數', '期间内赢得商机从创建到成交的天数中位数',
       DEAL_DIMENSIONS),
    _m('won_amount', 'money_sum', 'money', 'deal', 'closed_at', 'won amount', '',
       'Sum of amounts of deals won in the period (new revenue signed)',
       '期間內贏得商機的金額總和（新簽營收）', '期间内赢得商机的金额总和（新签营收）',
       DEAL_DIMENSIONS),
    _m('pipeline_created', 'money_sum', 'money', 'deal', 'created_at', 'amount', '',
       'Sum of amounts of deals created in the period',
       '期間內建立商機的金額總和', '期间内创建商机的金额总和',
       DEAL_DIMENSIONS),
    _m('weighted_pipeline', 'money_sum', 'money', 'deal', 'created_at', 'amount x stage probability', '',
       'Amounts of deals created in the period, weighted by stage win probability',
       '期間內建立商機的金額，依階段贏單機率加權', '期间内创建商机的金额，按阶段赢单概率加权',
       DEAL_DIMENSIONS),
    _m('spend', 'money_sum', 'money', 'spend', 'spend_date', 'spend', '',
       'Campaign spend in the period',
       '期間內的活動花費', '期间内的活动花费',
       SPEND_DIMENSIONS),
    _m('cpl', 'cost_per', 'money', 'spend', 'spend_date / reached_at(lead)', 'spend', 'leads',
       'Spend per lead created in the period',
       '期間內每個名單的成本', '期间内每条线索的成本',
       SPEND_DIMENSIONS, options={'stage': 'lead'}),
    _m('cost_per_mql', 'cost_per', 'money', 'spend', 'spend_date / reached_at(mql)', 'spend', 'MQLs',
       'Spend per MQL reached in the period',
       '期間內每個 MQL 的成本', '期间内每个 MQL 的成本',
       SPEND_DIMENSIONS, options={'stage': 'mql'}),
    _m('cost_per_sql', 'cost_per', 'money', 'spend', 'spend_date / reached_at(sql)', 'spend', 'SQLs',
       'Spend per SQL reached in the period',
       '期間內每個 SQL 的成本', '期间内每个 SQL 的成本',
       SPEND_DIMENSIONS, options={'stage': 'sql'}),
    _m('cac', 'cost_per', 'money', 'spend', 'spend_date / reached_at(customer)', 'marketing spend (+ sales costs without --by)', 'new customers',
       'Customer acquisition cost: spend (and sales costs) per new customer, credited by the chosen attribution model (default first touch)',
       '客戶取得成本：每位新客戶的花費（含業務成本），依所選歸因模型（預設首次接觸）', '获客成本：每位新客户的花费（含销售成本），按所选归因模型（默认首次接触）',
       SPEND_DIMENSIONS, options={'stage': 'customer'}),
    _m('sla_compliance', 'rate', 'ratio', 'handoff', 'assigned_at', 'hand-offs answered within the SLA', 'hand-offs whose SLA is decided',
       'Share of hand-offs whose first sales response came within the SLA',
       '首次業務回應在 SLA 內的交接比例', '首次销售响应在 SLA 内的交接比例',
       LEAD_DIMENSIONS),
    _m('response_time', 'stats', 'hours', 'handoff', 'assigned_at', 'sum of business hours', 'answered hand-offs',
       'Business hours from hand-off to first response (median, p90)',
       '交接到首次回應的營業時數（中位數、P90）', '交接到首次响应的工作小时数（中位数、P90）',
       LEAD_DIMENSIONS),
    _m('rejection_rate', 'rate', 'ratio', 'handoff', 'assigned_at', 'hand-offs rejected', 'hand-offs',
       'Rejected / handed off, with the reason mix',
       '被退回 / 交接數，附退回原因分布', '被退回 / 交接数，附退回原因分布',
       LEAD_DIMENSIONS),
    _m('pipeline_as_of', 'money_sum', 'money', 'deal', 'as_of', 'open amount', '',
       'Open deals and amounts at the as-of moment, by stage and forecast category, with slipped and stale deals',
       '截至時點的未結商機與金額（依階段、預測類別），含延期與停滯商機', '截至时点的未结商机与金额（按阶段、预测类别），含延期与停滞商机',
       PIPELINE_DIMENSIONS),
    _m('quota_attainment', 'pair', 'ratio', 'quota', 'closed_at / quota period', 'won amount', 'quota',
       'Won amount / quota for the period, per rep (owner) or team',
       '期間內贏單金額 / 配額（依業務或團隊）', '期间内赢单金额 / 配额（按销售或团队）',
       PEOPLE_DIMENSIONS, options={'formula': 'a/b'}),
    _m('roas', 'pair', 'ratio', 'spend', 'spend_date / closed_at', 'attributed won amount', 'spend',
       'Return on ad spend: won amount credited by the chosen attribution model (default first touch) / spend',
       '廣告投資報酬：依所選歸因模型（預設首次接觸）歸因的贏單金額 / 花費', '广告投资回报：按所选归因模型（默认首次接触）归因的赢单金额 / 花费',
       SPEND_DIMENSIONS, options={'formula': 'b/a'}),
    _m('roi', 'pair', 'ratio', 'spend', 'spend_date / closed_at', 'attributed gross margin - spend', 'spend',
       'Return on investment: (gross margin of won deals credited by the chosen attribution model - spend) / spend',
       '投資報酬率：（依所選歸因模型歸因的贏單毛利 - 花費）/ 花費', '投资回报率：（按所选归因模型归因的赢单毛利 - 花费）/ 花费',
       SPEND_DIMENSIONS, options={'formula': '(b-a)/a'}),
    _m('ltv_historical', 'money_mean', 'money', 'customer', 'became_customer_at', 'gross margin to date', 'customers',
       'Historical LTV: gross margin to date per customer who became one in the period',
       '歷史顧客終身價值：期間內成為客戶者至今的平均毛利', '历史客户终身价值：期间内成为客户者至今的平均毛利',
       ACCOUNT_DIMENSIONS),
    _m('ltv_predictive', 'derived', 'money', 'customer', 'revenue month', 'monthly gross margin per customer', 'monthly churn',
       'Predictive LTV: average monthly gross margin per customer / monthly churn (the churn model\'s when it has scored them)',
       '預測顧客終身價值：每位客戶的平均月毛利 / 月流失率（有流失模型評分時用模型）', '预测客户终身价值：每位客户的平均月毛利 / 月流失率（有流失模型评分时用模型）',
       ACCOUNT_DIMENSIONS),
    _m('ltv_cac', 'derived', 'ratio', 'customer', 'revenue month / spend_date', 'predictive LTV', 'CAC',
       'LTV:CAC: predictive LTV / customer acquisition cost over the period',
       'LTV:CAC：預測顧客終身價值 / 客戶取得成本', 'LTV:CAC：预测客户终身价值 / 获客成本',
       ()),
    _m('payback_months', 'derived', 'months', 'customer', 'revenue month / spend_date', 'CAC', 'monthly gross margin per customer',
       'Payback months: customer acquisition cost / average monthly gross margin per customer',
       '回本月數：客戶取得成本 / 每位客戶的平均月毛利', '回本月数：获客成本 / 每位客户的平均月毛利',
       ()),
    _m('retention', 'rate', 'ratio', 'customer', 'revenue month', 'customer-months followed by revenue', 'customer-months with revenue',
       'Share of customers with revenue in a month who also have revenue the next',
       '當月有營收的客戶中，次月仍有營收的比例', '当月有营收的客户中，次月仍有营收的比例',
       ACCOUNT_DIMENSIONS),
    _m('churn_rate', 'rate', 'ratio', 'customer', 'revenue month', 'customer-months without revenue next', 'customer-months with revenue',
       'Share of customers with revenue in a month who have none the next',
       '當月有營收的客戶中，次月無營收的比例', '当月有营收的客户中，次月无营收的比例',
       ACCOUNT_DIMENSIONS),
    _m('data_quality', 'rate', 'ratio', 'record', 'created_at', 'records with required fields valid', 'leads and deals created',
       'Share of leads and deals created in the period with their required fields valid',
       '期間內建立的名單與商機中，必填欄位有效的比例', '期间内创建的线索与商机中，必填字段有效的比例',
       PEOPLE_DIMENSIONS),
    _m('goal_attainment', 'goal', 'ratio', 'goal', 'goal period', 'actual', 'target',
       'Actual / target for each shared goal over its period, with the run-rate forecast to period end',
       '各共同目標在其期間內的實際 / 目標，並依目前速度預測期末', '各共同目标在其期间内的实际 / 目标，并按当前速度预测期末',
       ()),
    _m('csat', 'mean', 'score', 'feedback', 'occurred_at', 'sum of scores (5-point scale)', 'responses',
       'Mean satisfaction score from customer feedback (on a 5-point scale)',
       '客戶回饋的平均滿意度（五分制）', '客户反馈的平均满意度（五分制）',
       FEEDBACK_DIMENSIONS),
)
# fmt: on

METRICS: dict[str, Metric] = {m.name: m for m in _DECLARED}
# Names of SPEC section 5 that stand for several declared metrics: `ltv` (`ltv_historical`, `ltv_predictive`).
ALIASES: dict[str, tuple[str, ...]] = {"ltv": ("ltv_historical", "ltv_predictive")}


def expand(names: list[str] | tuple[str, ...]) -> list[str]:
    """Metric names with each alias replaced by the metrics it stands for (order kept, no repeats)."""
    return list(dict.fromkeys(n for name in names for n in ALIASES.get(name, (name,))))


def metric(name: str) -> Metric:
    """The declaration of `name` (KeyError if not declared)."""
    return METRICS[name]
