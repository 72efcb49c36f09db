"""The policy validators' English messages (scoring, data-quality gate, routing, SLA, channel rules), in three languages.

The validators live in their domains and raise these through `translate`; the settings pages
and the API show them in the reader's language (`closedloop.i18n.localise`).
"""

from __future__ import annotations


def _m(en: str, tw: str, cn: str) -> dict[str, str]:
    return {"en": en, "zh-TW": tw, "zh-CN": cn}


MESSAGES: dict[str, dict[str, str]] = {
    # scoring.rules.parse_rules
    "validator.scoring.half_life": _m(
        "scoring: half_life_days must be positive",
        "評分規則：衰減半衰期（half_life_days）必須大於 0",
        "评分规则：衰减半衰期（half_life_days）必须大于 0",
    ),
    "validator.scoring.bands": _m(
        "scoring: bands are A, B and C (D is the rest)",
        "評分規則：等級只有 A、B、C（其餘為 D）",
        "评分规则：等级只有 A、B、C（其余为 D）",
    ),
    "validator.scoring.band_order": _m(
        "scoring: band A needs the highest minimum, then B, then C",
        "評分規則：A 級的門檻分數必須最高，其次是 B，再來是 C",
        "评分规则：A 级的门槛分数必须最高，其次是 B，再次是 C",
    ),
    "validator.scoring.malformed": _m(
        "scoring policy is malformed: {detail}",
        "評分規則格式不正確：{detail}",
        "评分规则格式不正确：{detail}",
    ),
    "validator.scoring.fit_field": _m(
        "scoring: unknown fit field {name!r}",
        "評分規則：未知的契合度欄位 {name!r}",
        "评分规则：未知的契合度字段 {name!r}",
    ),
    "validator.scoring.operator": _m(
        "scoring: unknown operator {op!r}",
        "評分規則：未知的比較方式 {op!r}",
        "评分规则：未知的比较方式 {op!r}",
    ),
    "validator.scoring.between": _m(
        "scoring: 'between' needs [low, high]",
        "評分規則：「between」需要 [下限, 上限]",
        "评分规则：“between”需要 [下限, 上限]",
    ),
    "validator.scoring.match_keys": _m(
        "scoring: touch match keys are {keys}",
        "評分規則：接觸比對只能使用這些欄位：{keys}",
        "评分规则：触点匹配只能使用这些字段：{keys}",
    ),
    "validator.scoring.whole": _m(
        "scoring: {name} must be a whole number",
        "評分規則：{name} 必須是整數",
        "评分规则：{name} 必须是整数",
    ),
    # handoffs.quality.parse_gate
    "validator.gate.field": _m(
        "quality gate: unknown field {name!r}",
        "資料品質關卡：未知的欄位 {name!r}",
        "数据质量关卡：未知的字段 {name!r}",
    ),
    # handoffs.routing.parse_routing
    "validator.routing.rule": _m(
        "routing: each rule needs a 'match' object and a 'team'",
        "分派規則：每條規則都需要比對條件（match）與團隊（team）",
        "分配规则：每条规则都需要匹配条件（match）与团队（team）",
    ),
    "validator.routing.key": _m(
        "routing: cannot match on {name!r}",
        "分派規則：不能依 {name!r} 比對",
        "分配规则：不能按 {name!r} 匹配",
    ),
    # handoffs.sla.parse_sla
    "validator.sla.positive": _m(
        "SLA policy: hours and days must be positive",
        "SLA 規則：小時數與天數必須大於 0",
        "SLA 规则：小时数与天数必须大于 0",
    ),
    "validator.sla.share": _m(
        "SLA policy: {name} is a share between 0 and 1",
        "SLA 規則：{name} 是介於 0 到 1 之間的比例",
        "SLA 规则：{name} 是介于 0 到 1 之间的比例",
    ),
    "validator.sla.negative": _m(
        "SLA policy: counts must not be negative",
        "SLA 規則：數量不得為負數",
        "SLA 规则：数量不得为负数",
    ),
    "validator.sla.malformed": _m(
        "SLA policy: {detail}",
        "SLA 規則格式不正確：{detail}",
        "SLA 规则格式不正确：{detail}",
    ),
    # marketing.channels.propose_rules
    "validator.channels.empty": _m(
        "channel rules must be a non-empty list",
        "管道規則不能是空的清單",
        "渠道规则不能是空列表",
    ),
    "validator.channels.no_channel": _m(
        "rule {n} has no channel",
        "第 {n} 條規則沒有指定管道",
        "第 {n} 条规则没有指定渠道",
    ),
    "validator.channels.list": _m(
        "rule {n}: {name} must be a list",
        "第 {n} 條規則：{name} 必須是清單",
        "第 {n} 条规则：{name} 必须是列表",
    ),
    "validator.channels.test": _m(
        "rule {n}: unknown test {name!r}",
        "第 {n} 條規則：未知的條件 {name!r}",
        "第 {n} 条规则：未知的条件 {name!r}",
    ),
    "validator.channels.regex": _m(
        "rule {n}: bad regex {value!r}: {detail}",
        "第 {n} 條規則：正規表示式 {value!r} 有誤：{detail}",
        "第 {n} 条规则：正则表达式 {value!r} 有误：{detail}",
    ),
    "validator.channels.version": _m(
        "no channel-rules version {id}",
        "找不到管道規則版本 {id}",
        "找不到渠道规则版本 {id}",
    ),
}
