"""Attribution messages: models, errors and table headings (SPEC section 6)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "attribution.model.first_touch": {"en": "First touch", "zh-TW": "首次接觸", "zh-CN": "首次接触"},
    "attribution.model.last_touch": {"en": "Last touch", "zh-TW": "最後接觸", "zh-CN": "最后接触"},
    "attribution.model.linear": {"en": "Linear", "zh-TW": "線性", "zh-CN": "线性"},
    "attribution.model.time_decay": {"en": "Time decay", "zh-TW": "時間衰減", "zh-CN": "时间衰减"},
    "attribution.model.position_based": {"en": "Position based (U)", "zh-TW": "U 型", "zh-CN": "U 型"},
    "attribution.model.w_shaped": {"en": "W-shaped", "zh-TW": "W 型", "zh-CN": "W 型"},
    "attribution.model.markov": {"en": "Markov chain", "zh-TW": "馬可夫鏈", "zh-CN": "马尔可夫链"},
    "attribution.model.shapley": {"en": "Shapley value", "zh-TW": "夏普利值", "zh-CN": "沙普利值"},
    "attribution.heading.key": {"en": "Key", "zh-TW": "項目", "zh-CN": "项目"},
    "attribution.heading.conversions": {"en": "Conversions", "zh-TW": "轉換數", "zh-CN": "转化数"},
    "attribution.heading.value": {"en": "Value", "zh-TW": "價值", "zh-CN": "价值"},
    "attribution.heading.removal_effect": {"en": "Removal effect", "zh-TW": "移除效果", "zh-CN": "移除效应"},
    "attribution.heading.low": {"en": "Low", "zh-TW": "下限", "zh-CN": "下限"},
    "attribution.heading.high": {"en": "High", "zh-TW": "上限", "zh-CN": "上限"},
    "attribution.heading.spread": {
        "en": "Spread (max-min)",
        "zh-TW": "差距 (最大-最小)",
        "zh-CN": "差距 (最大-最小)",
    },
    "attribution.heading.cv": {"en": "Coefficient of variation", "zh-TW": "變異係數", "zh-CN": "变异系数"},
    "attribution.summary": {
        "en": "{model}: {conversions} conversions ({conversion}), value {value} {currency}",
        "zh-TW": "{model}:{conversions} 次轉換({conversion}),價值 {value} {currency}",
        "zh-CN": "{model}:{conversions} 次转化({conversion}),价值 {value} {currency}",
    },
    "attribution.error.needs_times": {
        "en": "the {model} model needs touch times and lifecycle events, which a path table does not carry",
        "zh-TW": "{model} 模型需要接觸時間與生命週期事件,路徑表沒有這些資料",
        "zh-CN": "{model} 模型需要接触时间与生命周期事件,路径表没有这些数据",
    },
    "attribution.error.half_life": {
        "en": "the half life must be a positive number of days",
        "zh-TW": "半衰期必須是正的天數",
        "zh-CN": "半衰期必须是正的天数",
    },
    "attribution.error.order": {
        "en": "the Markov order must be between 1 and {max}",
        "zh-TW": "馬可夫階數必須介於 1 到 {max}",
        "zh-CN": "马尔可夫阶数必须介于 1 到 {max}",
    },
    "attribution.error.lookback": {
        "en": "the lookback window must be a positive number of days",
        "zh-TW": "回溯期間必須是正的天數",
        "zh-CN": "回溯期间必须是正的天数",
    },
    "attribution.error.bootstrap": {
        "en": "the number of bootstrap resamples must be at least 2",
        "zh-TW": "自助抽樣次數至少為 2",
        "zh-CN": "自助抽样次数至少为 2",
    },
    "attribution.error.one_char": {
        "en": "--{option} must be exactly one character",
        "zh-TW": "--{option} 必須是單一字元",
        "zh-CN": "--{option} 必须是单个字符",
    },
    "attribution.error.empty_table": {
        "en": "row 1: the path table is empty (no header)",
        "zh-TW": "第 1 列:路徑表是空的(沒有標題列)",
        "zh-CN": "第 1 行:路径表是空的(没有标题行)",
    },
    "attribution.error.missing_columns": {
        "en": "row 1: missing columns {columns} (delimiter '{delimiter}'; use --delimiter for another)",
        "zh-TW": "第 1 列:缺少欄位 {columns}(分隔字元 '{delimiter}';其他分隔字元請用 --delimiter)",
        "zh-CN": "第 1 行:缺少列 {columns}(分隔符 '{delimiter}';其他分隔符请用 --delimiter)",
    },
    "attribution.error.row": {
        "en": "row {row}, column {column}: {reason} (value '{value}')",
        "zh-TW": "第 {row} 列,欄位 {column}:{reason}(值 '{value}')",
        "zh-CN": "第 {row} 行,列 {column}:{reason}(值 '{value}')",
    },
    "attribution.error.short_row": {
        "en": "the row has fewer cells than the header",
        "zh-TW": "此列的欄位數少於標題列",
        "zh-CN": "此行的列数少于标题行",
    },
    "attribution.error.empty_channel": {
        "en": "empty channel name between '{sep}' separators",
        "zh-TW": "'{sep}' 分隔符號之間的通路名稱是空的",
        "zh-CN": "'{sep}' 分隔符之间的渠道名称为空",
    },
    "attribution.error.not_a_number": {"en": "not a number", "zh-TW": "不是數字", "zh-CN": "不是数字"},
    "attribution.error.negative": {
        "en": "must be a finite number, zero or more",
        "zh-TW": "必須是大於或等於零的有限數字",
        "zh-CN": "必须是大于或等于零的有限数字",
    },
    "attribution.error.missing_rate": {
        "en": "deal {deal}: no exchange rate for {currency} on or before {date}",
        "zh-TW": "商機 {deal}:{date} 當日或之前沒有 {currency} 的匯率",
        "zh-CN": "商机 {deal}:{date} 当日或之前没有 {currency} 的汇率",
    },
}
