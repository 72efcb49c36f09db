"""Messages of adding and reordering deal pipeline stages (deals.stages)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "deal.error.stage_key": {
        "en": "A stage key is 2 to 64 lower-case letters, digits or underscores, starting with a letter: {value!r}",
        "zh-TW": "階段代碼需為 2 到 64 個小寫英文字母、數字或底線，並以字母開頭：{value!r}",
        "zh-CN": "阶段代码需为 2 到 64 个小写英文字母、数字或下划线，并以字母开头：{value!r}",
    },
    "deal.error.stage_exists": {
        "en": "A stage with the key {stage} already exists",
        "zh-TW": "代碼為 {stage} 的階段已存在",
        "zh-CN": "代码为 {stage} 的阶段已存在",
    },
    "deal.error.forecast_category": {
        "en": "An open stage's forecast category is one of: {categories}",
        "zh-TW": "進行中階段的預測類別只能是：{categories}",
        "zh-CN": "进行中阶段的预测类别只能是：{categories}",
    },
    "deal.error.stage_order": {
        "en": "The new order must name every stage once, with every open stage before won and lost",
        "zh-TW": "新順序必須列出每個階段各一次，且所有進行中階段都排在贏單與輸單之前",
        "zh-CN": "新顺序必须列出每个阶段各一次，且所有进行中阶段都排在赢单与输单之前",
    },
}
