"""Core messages: stages, reasons, lead and source types, CLI basics."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # Lifecycle stages (SPEC section 2)
    "stage.lead": {"en": "Lead", "zh-TW": "潛在客戶", "zh-CN": "潜在客户"},
    "stage.mql": {"en": "MQL", "zh-TW": "行銷合格名單 (MQL)", "zh-CN": "市场合格线索 (MQL)"},
    "stage.sal": {"en": "SAL", "zh-TW": "業務接受 (SAL)", "zh-CN": "销售接受 (SAL)"},
    "stage.sql": {"en": "SQL", "zh-TW": "業務合格名單 (SQL)", "zh-CN": "销售合格线索 (SQL)"},
    "stage.opportunity": {"en": "Opportunity", "zh-TW": "商機", "zh-CN": "商机"},
    "stage.customer": {"en": "Customer", "zh-TW": "成交客戶", "zh-CN": "成交客户"},
    "stage.recycled": {"en": "Recycled", "zh-TW": "回收培育", "zh-CN": "回收培育"},
    "stage.disqualified": {"en": "Disqualified", "zh-TW": "不合格", "zh-CN": "不合格"},
    "stage.lost": {"en": "Lost", "zh-TW": "所有商機失單", "zh-CN": "所有商机丢单"},
    # Deal pipeline stages (SPEC section 2)
    "deal_stage.initial_contact": {"en": "Initial contact", "zh-TW": "初步聯繫", "zh-CN": "初步联系"},
    "deal_stage.needs_analysis": {"en": "Needs analysis", "zh-TW": "需求分析", "zh-CN": "需求分析"},
    "deal_stage.proposal": {"en": "Proposal", "zh-TW": "方案提報", "zh-CN": "方案提报"},
    "deal_stage.negotiation": {"en": "Negotiation", "zh-TW": "價格協商", "zh-CN": "价格协商"},
    "deal_stage.won": {"en": "Won", "zh-TW": "成交", "zh-CN": "成交"},
    "deal_stage.lost": {"en": "Lost", "zh-TW": "失單", "zh-CN": "丢单"},
    # Rejection reasons (SPEC section 2)
    "reason.wrong_fit": {"en": "Wrong fit", "zh-TW": "不符目標客群", "zh-CN": "不符合目标客群"},
    "reason.no_budget": {"en": "No budget", "zh-TW": "無預算", "zh-CN": "无预算"},
    "reason.no_authority": {"en": "No authority", "zh-TW": "非決策者", "zh-CN": "非决策者"},
    "reason.bad_contact_data": {"en": "Bad contact data", "zh-TW": "聯絡資料錯誤", "zh-CN": "联系资料错误"},
    "reason.duplicate": {"en": "Duplicate", "zh-TW": "重複", "zh-CN": "重复"},
    "reason.student_or_job_seeker": {
        "en": "Student or job seeker",
        "zh-TW": "學生或求職者",
        "zh-CN": "学生或求职者",
    },
    "reason.competitor": {"en": "Competitor", "zh-TW": "競爭對手", "zh-CN": "竞争对手"},
    "reason.spam": {"en": "Spam or bot", "zh-TW": "垃圾/機器人", "zh-CN": "垃圾/机器人"},
    "reason.no_response": {"en": "No response", "zh-TW": "聯繫不上", "zh-CN": "联系不上"},
    "reason.other": {"en": "Other", "zh-TW": "其他", "zh-CN": "其他"},
    # Why a lead became an MQL (hand-off triggers) or was moved back
    "reason.score": {
        "en": "Score reached the MQL threshold",
        "zh-TW": "分數達到 MQL 門檻",
        "zh-CN": "分数达到 MQL 门槛",
    },
    "reason.high_intent": {
        "en": "High-intent action: {label}",
        "zh-TW": "高意向行為:{label}",
        "zh-CN": "高意向行为:{label}",
    },
    "reason.reentry": {"en": "Came back (re-entry)", "zh-TW": "重新進入漏斗", "zh-CN": "重新进入漏斗"},
    "reason.correction": {"en": "Correction by a manager", "zh-TW": "主管更正", "zh-CN": "主管更正"},
    # Lead types and source types
    "lead_type.new_customer": {"en": "New customer", "zh-TW": "新客戶", "zh-CN": "新客户"},
    "lead_type.existing_customer": {"en": "Existing customer", "zh-TW": "舊客戶", "zh-CN": "老客户"},
    "lead_type.partner": {"en": "Partner", "zh-TW": "潛在合作夥伴", "zh-CN": "潜在合作伙伴"},
    "source_type.inbound": {"en": "Inbound (marketing)", "zh-TW": "行銷來源", "zh-CN": "市场来源"},
    "source_type.outbound": {"en": "Outbound (sales)", "zh-TW": "業務開發", "zh-CN": "销售开发"},
    "source_type.partner_referral": {"en": "Partner referral", "zh-TW": "夥伴推薦", "zh-CN": "伙伴推荐"},
    # Errors and CLI messages
    "error.invalid_transition": {
        "en": "A lead cannot move from {from_stage} to {to_stage}",
        "zh-TW": "潛在客戶不能從「{from_stage}」變更為「{to_stage}」",
        "zh-CN": "潜在客户不能从“{from_stage}”变更为“{to_stage}”",
    },
    "error.reason_required": {
        "en": "A move to {to_stage} needs a reason",
        "zh-TW": "變更為「{to_stage}」需要填寫原因",
        "zh-CN": "变更为“{to_stage}”需要填写原因",
    },
    "cli.demo.loaded": {
        "en": "Loaded {leads} leads, {touchpoints} touchpoints and {deals} deals in {seconds:.1f} s",
        "zh-TW": "已載入 {leads} 筆潛在客戶、{touchpoints} 筆接觸點、{deals} 筆商機，耗時 {seconds:.1f} 秒",
        "zh-CN": "已载入 {leads} 条潜在客户、{touchpoints} 条接触点、{deals} 个商机，耗时 {seconds:.1f} 秒",
    },
    "cli.init.done": {
        "en": "The store at {url} is at the latest schema",
        "zh-TW": "資料庫 {url} 已是最新結構",
        "zh-CN": "数据库 {url} 已是最新结构",
    },
    # The database is down or restarting: every request answers 503 with Retry-After.
    "error.store_unavailable.title": {
        "en": "Service temporarily unavailable",
        "zh-TW": "服務暫時無法使用",
        "zh-CN": "服务暂时不可用",
    },
    "error.store_unavailable": {
        "en": "The database cannot be reached right now (it may be restarting). "
        "Please try again in a few seconds.",
        "zh-TW": "目前無法連線到資料庫（可能正在重新啟動），請過幾秒再試一次。",
        "zh-CN": "目前无法连接到数据库（可能正在重新启动），请过几秒再试一次。",
    },
}
