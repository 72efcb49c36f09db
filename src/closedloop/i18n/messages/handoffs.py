"""Messages of the hand-off core: policies, scoring, hand-offs, the SLA ledger, activities, deals."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # Policies (SPEC section 4)
    "policy.error.unknown_kind": {
        "en": "Unknown policy kind {kind} (one of: {kinds})",
        "zh-TW": "未知的規則類型 {kind}（可用：{kinds}）",
        "zh-CN": "未知的规则类型 {kind}（可用：{kinds}）",
    },
    "policy.error.past": {
        "en": "A policy version never applies to the past: effective_from must not be earlier than now",
        "zh-TW": "規則版本不可回溯套用：生效時間不得早於現在",
        "zh-CN": "规则版本不可追溯适用：生效时间不得早于现在",
    },
    "policy.error.reason": {
        "en": "A policy version needs a reason",
        "zh-TW": "規則版本需要填寫變更原因",
        "zh-CN": "规则版本需要填写变更原因",
    },
    "policy.error.approver": {
        "en": "The role {role} cannot approve shared definitions (marketing, sales or a manager can)",
        "zh-TW": "角色 {role} 不能核准共同定義（行銷、業務或主管才可以）",
        "zh-CN": "角色 {role} 不能批准共同定义（市场、销售或主管才可以）",
    },
    "policy.error.not_pending": {
        "en": "Version {version} is {status}, not waiting for approval",
        "zh-TW": "版本 {version} 的狀態是 {status}，不在待核准中",
        "zh-CN": "版本 {version} 的状态是 {status}，不在待批准中",
    },
    "policy.error.already_approved": {
        "en": "Your side has already approved this version",
        "zh-TW": "您這一方已核准過此版本",
        "zh-CN": "您这一方已批准过此版本",
    },
    # Hand-offs
    "handoff.error.not_found": {
        "en": "Hand-off {id} not found",
        "zh-TW": "找不到移交 {id}",
        "zh-CN": "找不到移交 {id}",
    },
    "handoff.error.not_promotable": {
        "en": "A lead at stage {stage} cannot become an MQL",
        "zh-TW": "階段為 {stage} 的潛在客戶不能成為 MQL",
        "zh-CN": "阶段为 {stage} 的潜在客户不能成为 MQL",
    },
    "handoff.error.reason": {
        "en": "Unknown rejection reason {reason} (one of: {reasons})",
        "zh-TW": "未知的退回原因 {reason}（可用：{reasons}）",
        "zh-CN": "未知的退回原因 {reason}（可用：{reasons}）",
    },
    "handoff.error.other_text": {
        "en": "The reason 'other' needs a text explaining it",
        "zh-TW": "原因為「其他」時需要填寫說明",
        "zh-CN": "原因为“其他”时需要填写说明",
    },
    "handoff.error.reject_stage": {
        "en": "A rejected lead goes to recycled or disqualified, not {stage}",
        "zh-TW": "被退回的潛在客戶只能改為回收培育或不合格，不能是 {stage}",
        "zh-CN": "被退回的潜在客户只能改为回收培育或不合格，不能是 {stage}",
    },
    "handoff.error.closed": {
        "en": "Hand-off {id} is {status}: it cannot change",
        "zh-TW": "移交 {id} 的狀態是 {status}，無法變更",
        "zh-CN": "移交 {id} 的状态是 {status}，无法变更",
    },
    "handoff.error.conflict": {
        "en": "Hand-off {id} was answered by someone else a moment ago: reload it",
        "zh-TW": "移交 {id} 剛被他人處理：請重新載入",
        "zh-CN": "移交 {id} 刚被他人处理：请重新加载",
    },
    "handoff.error.not_reentry": {
        "en": "Only a recycled or lost lead can re-enter; this one is at stage {stage}",
        "zh-TW": "只有回收培育或失單的潛在客戶可以重新進入；此筆目前為 {stage}",
        "zh-CN": "只有回收培育或丢单的潜在客户可以重新进入；此条目前为 {stage}",
    },
    "handoff.cli.accepted": {
        "en": "Hand-off {id} accepted: lead {lead} is now an SAL",
        "zh-TW": "已接受移交 {id}：潛在客戶 {lead} 成為業務接受 (SAL)",
        "zh-CN": "已接受移交 {id}：潜在客户 {lead} 成为销售接受 (SAL)",
    },
    "handoff.cli.rejected": {
        "en": "Hand-off {id} rejected ({reason}): lead {lead} is now {stage}",
        "zh-TW": "已退回移交 {id}（{reason}）：潛在客戶 {lead} 改為 {stage}",
        "zh-CN": "已退回移交 {id}（{reason}）：潜在客户 {lead} 改为 {stage}",
    },
    "handoff.cli.qualified": {
        "en": "Hand-off {id} qualified: lead {lead} is now an SQL",
        "zh-TW": "移交 {id} 已確認合格：潛在客戶 {lead} 成為業務合格名單 (SQL)",
        "zh-CN": "移交 {id} 已确认合格：潜在客户 {lead} 成为销售合格线索 (SQL)",
    },
    "handoff.cli.breaches": {
        "en": "{count} hand-offs breached their SLA and were escalated",
        "zh-TW": "{count} 筆移交超過 SLA，已通報主管",
        "zh-CN": "{count} 条移交超过 SLA，已通报主管",
    },
    "handoff.cli.none": {"en": "Nothing to show", "zh-TW": "沒有資料", "zh-CN": "没有数据"},
    # The two-sided ledger
    "ledger.side.marketing": {"en": "Marketing", "zh-TW": "行銷", "zh-CN": "市场"},
    "ledger.side.sales": {"en": "Sales", "zh-TW": "業務", "zh-CN": "销售"},
    "ledger.mql_volume": {"en": "MQL volume", "zh-TW": "MQL 數量", "zh-CN": "MQL 数量"},
    "ledger.mql_to_sql_rate": {
        "en": "MQL to SQL rate",
        "zh-TW": "MQL 轉 SQL 比率",
        "zh-CN": "MQL 转 SQL 比率",
    },
    "ledger.first_response": {
        "en": "First response within SLA",
        "zh-TW": "SLA 內首次回應",
        "zh-CN": "SLA 内首次响应",
    },
    "ledger.attempts": {"en": "Contact attempts", "zh-TW": "聯繫嘗試次數", "zh-CN": "联系尝试次数"},
    "ledger.acceptance": {"en": "Decision in time", "zh-TW": "準時接受或退回", "zh-CN": "按时接受或退回"},
    "ledger.met": {"en": "met", "zh-TW": "達成", "zh-CN": "达成"},
    "ledger.missed": {"en": "missed", "zh-TW": "未達成", "zh-CN": "未达成"},
    # Activities
    "activity.error.type": {
        "en": "Unknown activity type {type} (one of: {types})",
        "zh-TW": "未知的活動類型 {type}（可用：{types}）",
        "zh-CN": "未知的活动类型 {type}（可用：{types}）",
    },
    "activity.error.target": {
        "en": "An activity belongs to a lead or a deal",
        "zh-TW": "活動必須屬於某個潛在客戶或商機",
        "zh-CN": "活动必须属于某个潜在客户或商机",
    },
    # Deals
    "deal.error.not_found": {
        "en": "Deal {id} not found",
        "zh-TW": "找不到商機 {id}",
        "zh-CN": "找不到商机 {id}",
    },
    "deal.error.stage": {
        "en": "{stage} is not an open stage of the pipeline",
        "zh-TW": "{stage} 不是商機流程中可用的階段",
        "zh-CN": "{stage} 不是商机流程中可用的阶段",
    },
    "deal.error.amount": {
        "en": "A deal amount cannot be negative",
        "zh-TW": "商機金額不可為負數",
        "zh-CN": "商机金额不可为负数",
    },
    "deal.error.conflict": {
        "en": "Deal {id} was changed by someone else (you saw version {expected}, it is now {current}): "
        "reload it and apply your change again",
        "zh-TW": "商機 {id} 已被他人修改（您看到的是版本 {expected}，目前為 {current}）：請重新載入後再修改",
        "zh-CN": "商机 {id} 已被他人修改（您看到的是版本 {expected}，当前为 {current}）：请重新加载后再修改",
    },
    "deal.error.conflict_concurrent": {
        "en": "Deal {id} was changed by someone else while you saved version {expected}: "
        "reload it and apply your change again",
        "zh-TW": "您儲存版本 {expected} 時，商機 {id} 剛被他人修改：請重新載入後再修改",
        "zh-CN": "您保存版本 {expected} 时，商机 {id} 刚被他人修改：请重新加载后再修改",
    },
    "deal.error.use_outcome": {
        "en": "Use win or lose to close a deal, not a move to {stage}",
        "zh-TW": "結案請使用成交或失單，而不是移到 {stage}",
        "zh-CN": "结案请使用成交或丢单，而不是移到 {stage}",
    },
    "deal.error.same_stage": {
        "en": "The deal is already at {stage}",
        "zh-TW": "商機已在 {stage} 階段",
        "zh-CN": "商机已在 {stage} 阶段",
    },
    "deal.error.closed": {
        "en": "Deal {id} is {status}: it cannot change",
        "zh-TW": "商機 {id} 已{status}，無法變更",
        "zh-CN": "商机 {id} 已{status}，无法变更",
    },
    "deal.error.lost_reason": {
        "en": "A lost deal needs a reason",
        "zh-TW": "失單需要填寫原因",
        "zh-CN": "丢单需要填写原因",
    },
    # The lead command
    "leadcli.stage_changed": {
        "en": "Lead {id}: {from_stage} -> {to_stage}",
        "zh-TW": "潛在客戶 {id}：{from_stage} → {to_stage}",
        "zh-CN": "潜在客户 {id}：{from_stage} → {to_stage}",
    },
    "leadcli.unknown_user": {
        "en": "No user with the email {email}",
        "zh-TW": "找不到電子郵件為 {email} 的使用者",
        "zh-CN": "找不到电子邮件为 {email} 的用户",
    },
}
