"""Notification messages: one title and one body per topic, field labels, CLI texts."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # Topic titles and bodies. Placeholders are filled from the event and the store.
    "notifications.mql_assigned.title": {
        "en": "New MQL assigned: {lead}",
        "zh-TW": "新的 MQL 已指派:{lead}",
        "zh-CN": "新的 MQL 已分配:{lead}",
    },
    "notifications.mql_assigned.body": {
        "en": "{lead} was handed off to {owner}. First response is due by {due_at}.",
        "zh-TW": "{lead} 已移交給 {owner},請於 {due_at} 前首次回應。",
        "zh-CN": "{lead} 已移交给 {owner},请于 {due_at} 前首次响应。",
    },
    "notifications.sla_about_to_breach.title": {
        "en": "SLA about to breach: {lead}",
        "zh-TW": "SLA 即將逾時:{lead}",
        "zh-CN": "SLA 即将超时:{lead}",
    },
    "notifications.sla_about_to_breach.body": {
        "en": "The {sla} deadline for {lead} ({owner}) is {due_at}: {minutes_left} minutes left.",
        "zh-TW": "{lead}({owner})的{sla}期限為 {due_at},剩下 {minutes_left} 分鐘。",
        "zh-CN": "{lead}({owner})的{sla}期限为 {due_at},还剩 {minutes_left} 分钟。",
    },
    "notifications.sla_breached.title": {
        "en": "SLA breached: {lead}",
        "zh-TW": "SLA 已逾時:{lead}",
        "zh-CN": "SLA 已超时:{lead}",
    },
    "notifications.sla_breached.body": {
        "en": "The {sla} deadline for {lead} ({owner}) passed at {due_at}.",
        "zh-TW": "{lead}({owner})的{sla}期限已於 {due_at} 逾時。",
        "zh-CN": "{lead}({owner})的{sla}期限已于 {due_at} 超时。",
    },
    "notifications.lead_rejected.title": {
        "en": "Lead rejected: {lead}",
        "zh-TW": "名單遭退回:{lead}",
        "zh-CN": "线索被退回:{lead}",
    },
    "notifications.lead_rejected.body": {
        "en": "{owner} rejected {lead}. Reason: {reason}.",
        "zh-TW": "{owner} 退回了 {lead}。原因:{reason}。",
        "zh-CN": "{owner} 退回了 {lead}。原因:{reason}。",
    },
    "notifications.deal_won.title": {
        "en": "Deal won: {deal}",
        "zh-TW": "贏得商機:{deal}",
        "zh-CN": "赢单:{deal}",
    },
    "notifications.deal_won.body": {
        "en": "{owner} won {deal} for {amount}.",
        "zh-TW": "{owner} 贏得 {deal},金額 {amount}。",
        "zh-CN": "{owner} 赢得 {deal},金额 {amount}。",
    },
    "notifications.goal_at_risk.title": {
        "en": "Goal at risk: {goal}",
        "zh-TW": "目標有風險:{goal}",
        "zh-CN": "目标有风险:{goal}",
    },
    "notifications.goal_at_risk.body": {
        "en": "{goal} is at {progress} of {target}; the run-rate projects {run_rate} by the period end.",
        "zh-TW": "{goal} 目前 {progress} / {target},依目前速度期末預估 {run_rate}。",
        "zh-CN": "{goal} 目前 {progress} / {target},按当前速度期末预计 {run_rate}。",
    },
    "notifications.report_ready.title": {
        "en": "Report ready: {report}",
        "zh-TW": "報告已完成:{report}",
        "zh-CN": "报告已生成:{report}",
    },
    "notifications.report_ready.body": {
        "en": "The {report} for {period} is ready.",
        "zh-TW": "{period} 的{report}已完成。",
        "zh-CN": "{period} 的{report}已生成。",
    },
    # Field labels (Slack fields, Teams facts).
    "notifications.field.lead": {"en": "Lead", "zh-TW": "名單", "zh-CN": "线索"},
    "notifications.field.owner": {"en": "Owner", "zh-TW": "負責人", "zh-CN": "负责人"},
    "notifications.field.due_at": {"en": "Due", "zh-TW": "期限", "zh-CN": "期限"},
    "notifications.field.reason": {"en": "Reason", "zh-TW": "原因", "zh-CN": "原因"},
    "notifications.field.amount": {"en": "Amount", "zh-TW": "金額", "zh-CN": "金额"},
    "notifications.field.progress": {"en": "Progress", "zh-TW": "進度", "zh-CN": "进度"},
    "notifications.field.target": {"en": "Target", "zh-TW": "目標", "zh-CN": "目标"},
    "notifications.field.period": {"en": "Period", "zh-TW": "期間", "zh-CN": "期间"},
    "notifications.field.sla": {"en": "SLA", "zh-TW": "SLA", "zh-CN": "SLA"},
    "notifications.open": {
        "en": "Open in closedloop",
        "zh-TW": "在 closedloop 開啟",
        "zh-CN": "在 closedloop 打开",
    },
    "notifications.footer": {
        "en": "closedloop · {topic}",
        "zh-TW": "closedloop · {topic}",
        "zh-CN": "closedloop · {topic}",
    },
    "notifications.sla.first_response": {"en": "first response", "zh-TW": "首次回應", "zh-CN": "首次响应"},
    "notifications.sla.accept": {"en": "acceptance", "zh-TW": "接受", "zh-CN": "接受"},
    "notifications.sla.attempts": {"en": "contact attempts", "zh-TW": "聯繫嘗試", "zh-CN": "联系尝试"},
    "notifications.unknown": {"en": "(unknown)", "zh-TW": "(未知)", "zh-CN": "(未知)"},
    "notifications.unassigned": {"en": "unassigned", "zh-TW": "未指派", "zh-CN": "未分配"},
    "notifications.lead_number": {"en": "Lead #{id}", "zh-TW": "名單 #{id}", "zh-CN": "线索 #{id}"},
    "notifications.deal_number": {"en": "Deal #{id}", "zh-TW": "商機 #{id}", "zh-CN": "商机 #{id}"},
    "notifications.report.weekly": {
        "en": "weekly review pack",
        "zh-TW": "每週檢討簡報",
        "zh-CN": "每周复盘材料",
    },
    "notifications.report.monthly": {
        "en": "monthly closed-loop report",
        "zh-TW": "每月閉環報告",
        "zh-CN": "每月闭环报告",
    },
    # CLI and errors.
    "notifications.error.unknown_kind": {
        "en": "unknown channel kind {kind!r}; one of: {kinds}",
        "zh-TW": "未知的通道類型 {kind!r};可用:{kinds}",
        "zh-CN": "未知的通道类型 {kind!r};可用:{kinds}",
    },
    "notifications.error.unknown_topic": {
        "en": "unknown topic {topic!r}; one of: {topics}",
        "zh-TW": "未知的主題 {topic!r};可用:{topics}",
        "zh-CN": "未知的主题 {topic!r};可用:{topics}",
    },
    "notifications.error.missing_setting": {
        "en": "a {kind} channel needs {setting}",
        "zh-TW": "{kind} 通道需要設定 {setting}",
        "zh-CN": "{kind} 通道需要设置 {setting}",
    },
    "notifications.error.bad_url": {
        "en": "{url} is not an http(s) URL",
        "zh-TW": "{url} 不是 http(s) 網址",
        "zh-CN": "{url} 不是 http(s) 网址",
    },
    "notifications.error.channel_exists": {
        "en": "a channel named {name!r} already exists",
        "zh-TW": "已有名為 {name!r} 的通道",
        "zh-CN": "已有名为 {name!r} 的通道",
    },
    "notifications.error.no_channel": {
        "en": "no channel {ref!r}",
        "zh-TW": "找不到通道 {ref!r}",
        "zh-CN": "找不到通道 {ref!r}",
    },
    "notifications.error.user_and_team": {
        "en": "subscribe a user or a team, not both",
        "zh-TW": "請訂閱使用者或團隊,不可同時兩者",
        "zh-CN": "请订阅用户或团队,不可同时两者",
    },
    "notifications.error.not_dead": {
        "en": "outbox message {id} is not dead",
        "zh-TW": "外送訊息 {id} 並非失敗狀態",
        "zh-CN": "外发消息 {id} 并非失败状态",
    },
    "notifications.cli.channel_added": {
        "en": "channel {id} ({kind}) added: {name}",
        "zh-TW": "已新增通道 {id}({kind}):{name}",
        "zh-CN": "已新增通道 {id}({kind}):{name}",
    },
    "notifications.cli.subscribed": {
        "en": "subscription {id}: {topic} -> channel {channel}",
        "zh-TW": "訂閱 {id}:{topic} -> 通道 {channel}",
        "zh-CN": "订阅 {id}:{topic} -> 通道 {channel}",
    },
    "notifications.cli.allowed": {
        "en": "allowed outbound URL prefix: {prefix}",
        "zh-TW": "已允許外送網址前綴:{prefix}",
        "zh-CN": "已允许外发网址前缀:{prefix}",
    },
    "notifications.cli.requeued": {
        "en": "outbox message {id} queued again",
        "zh-TW": "外送訊息 {id} 已重新排入佇列",
        "zh-CN": "外发消息 {id} 已重新排入队列",
    },
    "notifications.cli.none_dead": {
        "en": "no dead messages",
        "zh-TW": "沒有失敗的訊息",
        "zh-CN": "没有失败的消息",
    },
    "notifications.cli.worker_done": {
        "en": "worker {worker}: {messages} messages processed, {sent} sent, {failed} failed",
        "zh-TW": "工作程序 {worker}:處理 {messages} 則訊息,送出 {sent},失敗 {failed}",
        "zh-CN": "工作进程 {worker}:处理 {messages} 条消息,发送 {sent},失败 {failed}",
    },
    "notifications.cli.channel_disabled": {
        "en": "channel {ref} disabled",
        "zh-TW": "通道 {ref} 已停用",
        "zh-CN": "通道 {ref} 已停用",
    },
    "notifications.cli.channel_enabled": {
        "en": "channel {ref} enabled",
        "zh-TW": "通道 {ref} 已啟用",
        "zh-CN": "通道 {ref} 已启用",
    },
    "notifications.cli.unsubscribed": {
        "en": "subscription {id} removed",
        "zh-TW": "訂閱 {id} 已移除",
        "zh-CN": "订阅 {id} 已移除",
    },
    "notifications.cli.disallowed": {
        "en": "{prefix} removed from the allow-list",
        "zh-TW": "已從允許清單移除 {prefix}",
        "zh-CN": "已从允许清单移除 {prefix}",
    },
    "notifications.error.no_subscription": {
        "en": "no subscription {id}",
        "zh-TW": "找不到訂閱 {id}",
        "zh-CN": "找不到订阅 {id}",
    },
    "notifications.error.not_allowed": {
        "en": "{prefix} is not allow-listed",
        "zh-TW": "{prefix} 不在允許清單中",
        "zh-CN": "{prefix} 不在允许清单中",
    },
    "notifications.error.no_message": {
        "en": "no outbox message {id}",
        "zh-TW": "找不到外送訊息 {id}",
        "zh-CN": "找不到外发消息 {id}",
    },
    "notifications.error.no_user": {
        "en": "no user {ref}",
        "zh-TW": "找不到使用者 {ref}",
        "zh-CN": "找不到用户 {ref}",
    },
    "notifications.error.no_team": {
        "en": "no team {ref}",
        "zh-TW": "找不到團隊 {ref}",
        "zh-CN": "找不到团队 {ref}",
    },
    "notifications.error.secret_in_config": {
        "en": "{keys}: give credentials with --secret (stored encrypted), not as a plain setting",
        "zh-TW": "{keys}:憑證請用 --secret 提供(加密儲存),不要放在一般設定",
        "zh-CN": "{keys}:凭证请用 --secret 提供(加密存储),不要放在普通设置",
    },
}
