"""Analytics messages: scorecard errors and the column headers of funnel and metrics tables."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "analytics.error.bad_as_of": {
        "en": "--as-of {value!r} is not an ISO 8601 date or time",
        "zh-TW": "--as-of {value!r} 不是 ISO 8601 日期或時間",
        "zh-CN": "--as-of {value!r} 不是 ISO 8601 日期或时间",
    },
    "analytics.error.bad_date": {
        "en": "--{field} {value!r} is not a date (YYYY-MM-DD)",
        "zh-TW": "--{field} {value!r} 不是日期（YYYY-MM-DD）",
        "zh-CN": "--{field} {value!r} 不是日期（YYYY-MM-DD）",
    },
    "analytics.error.bad_where": {
        "en": "--where {value!r} must be DIMENSION=VALUE",
        "zh-TW": "--where {value!r} 必須是 維度=值",
        "zh-CN": "--where {value!r} 必须是 维度=值",
    },
    "analytics.error.bad_dimension": {
        "en": "unknown or unsupported dimension {dimension!r}; use one of: {allowed}",
        "zh-TW": "不明或不支援的維度 {dimension!r}；可用：{allowed}",
        "zh-CN": "未知或不支持的维度 {dimension!r}；可用：{allowed}",
    },
    "analytics.error.repeated_by": {
        "en": "a --by dimension is given twice",
        "zh-TW": "--by 維度重複",
        "zh-CN": "--by 维度重复",
    },
    "analytics.error.empty_period": {
        "en": "--from is after --to",
        "zh-TW": "--from 晚於 --to",
        "zh-CN": "--from 晚于 --to",
    },
    "analytics.error.bad_window": {
        "en": "--window must be zero or more days",
        "zh-TW": "--window 必須是零或更多天",
        "zh-CN": "--window 必须是零或更多天",
    },
    "analytics.error.bad_stage": {
        "en": "{stage!r} is not a main-line stage (lead, mql, sal, sql, opportunity, customer)",
        "zh-TW": "{stage!r} 不是主線階段（lead、mql、sal、sql、opportunity、customer）",
        "zh-CN": "{stage!r} 不是主线阶段（lead、mql、sal、sql、opportunity、customer）",
    },
    "analytics.error.stage_list": {
        "en": "--stages needs at least two main-line stages in waterfall order",
        "zh-TW": "--stages 需要至少兩個依漏斗順序排列的主線階段",
        "zh-CN": "--stages 需要至少两个按漏斗顺序排列的主线阶段",
    },
    "analytics.error.needs_stages": {
        "en": "{metric} needs --from-stage and --to-stage",
        "zh-TW": "{metric} 需要 --from-stage 與 --to-stage",
        "zh-CN": "{metric} 需要 --from-stage 和 --to-stage",
    },
    "analytics.error.stage_order": {
        "en": "--to-stage {to_stage} must come after --from-stage {from_stage} on the main line",
        "zh-TW": "--to-stage {to_stage} 必須在主線上位於 --from-stage {from_stage} 之後",
        "zh-CN": "--to-stage {to_stage} 必须在主线上位于 --from-stage {from_stage} 之后",
    },
    "analytics.error.bad_mode": {
        "en": "--mode {mode!r} must be cohort or period",
        "zh-TW": "--mode {mode!r} 必須是 cohort 或 period",
        "zh-CN": "--mode {mode!r} 必须是 cohort 或 period",
    },
    "analytics.error.unknown_metric": {
        "en": "unknown metric {metric!r}; known metrics: {known}",
        "zh-TW": "不明的指標 {metric!r}；可用指標：{known}",
        "zh-CN": "未知的指标 {metric!r}；可用指标：{known}",
    },
    "analytics.error.bad_model": {
        "en": "attribution model {model!r} is not available for cac yet (first_touch is)",
        "zh-TW": "CAC 目前尚不支援歸因模型 {model!r}（可用 first_touch）",
        "zh-CN": "CAC 目前尚不支持归因模型 {model!r}（可用 first_touch）",
    },
    "analytics.error.missing_rate": {
        "en": "no exchange rate for {currency} on or before {date}: import one with `closedloop import rates`",
        "zh-TW": "{date}（含）之前沒有 {currency} 的匯率：請以 `closedloop import rates` 匯入",
        "zh-CN": "{date}（含）之前没有 {currency} 的汇率：请用 `closedloop import rates` 导入",
    },
    "analytics.column.group": {"en": "Group", "zh-TW": "分組", "zh-CN": "分组"},
    "analytics.column.metric": {"en": "Metric", "zh-TW": "指標", "zh-CN": "指标"},
    "analytics.column.value": {"en": "Value", "zh-TW": "數值", "zh-CN": "数值"},
    "analytics.column.unit": {"en": "Unit", "zh-TW": "單位", "zh-CN": "单位"},
    "analytics.column.numerator": {"en": "Numerator", "zh-TW": "分子", "zh-CN": "分子"},
    "analytics.column.denominator": {"en": "Denominator", "zh-TW": "分母", "zh-CN": "分母"},
    "analytics.column.interval": {"en": "95% interval", "zh-TW": "95% 信賴區間", "zh-CN": "95% 置信区间"},
    "analytics.column.immature": {"en": "Immature", "zh-TW": "未成熟", "zh-CN": "未成熟"},
    "analytics.all": {"en": "(all)", "zh-TW": "（全部）", "zh-CN": "（全部）"},
    "analytics.as_of": {"en": "as of {as_of}", "zh-TW": "資料截至 {as_of}", "zh-CN": "数据截至 {as_of}"},
}
