"""Messages of the weekly review, the report packs, the glossary and the SLA agreement."""

from __future__ import annotations


def _m(en: str, tw: str, cn: str) -> dict[str, str]:
    return {"en": en, "zh-TW": tw, "zh-CN": cn}


MESSAGES: dict[str, dict[str, str]] = {
    # Reviews (API errors)
    "reviews.error.not_found": _m("Review {id} not found", "找不到檢討會議 {id}", "找不到复盘会议 {id}"),
    "reviews.error.item_not_found": _m(
        "Action item {id} not found", "找不到待辦事項 {id}", "找不到待办事项 {id}"
    ),
    "reviews.error.unknown_user": _m("Unknown user {id}", "未知的使用者 {id}", "未知的用户 {id}"),
    "reviews.error.period": _m(
        "The period ends before it starts", "期間的結束早於開始", "期间的结束早于开始"
    ),
    "reviews.error.status": _m("Unknown status {status}", "未知的狀態 {status}", "未知的状态 {status}"),
    # Report titles and headings
    "reports.title.weekly": _m("Weekly review pack", "每週行銷業務檢討資料", "每周市场销售复盘资料"),
    "reports.title.monthly": _m("Monthly closed-loop report", "每月閉環報告", "每月闭环报告"),
    "reports.title.glossary": _m("Glossary and how we work", "名詞定義與合作方式", "名词定义与合作方式"),
    "reports.title.sla": _m(
        "Marketing-sales service level agreement", "行銷與業務服務水準協議", "市场与销售服务水平协议"
    ),
    "reports.period": _m("Period", "期間", "期间"),
    "reports.compared_with": _m("compared with", "對照", "对照"),
    "reports.data_as_of": _m("Data as of", "資料截至", "数据截至"),
    "reports.policies": _m("Policy versions used", "採用的政策版本", "采用的政策版本"),
    "reports.policy_default": _m("built-in default", "系統預設", "系统默认"),
    "reports.h.figures": _m("Headline figures", "重點數字", "重点数字"),
    "reports.h.funnel": _m("Funnel", "漏斗", "漏斗"),
    "reports.h.movements": _m("Biggest movements", "最大變動", "最大变动"),
    "reports.h.sla": _m("SLA commitments of both sides", "雙方 SLA 承諾", "双方 SLA 承诺"),
    "reports.h.goals": _m("Shared goals", "共同目標", "共同目标"),
    "reports.h.scorecard": _m("Joint scorecard", "共同計分卡", "共同计分卡"),
    "reports.h.root_causes": _m("Root-cause findings", "根因分析發現", "根因分析发现"),
    "reports.h.overdue": _m("Overdue action items", "逾期待辦事項", "逾期待办事项"),
    "reports.h.followed_up": _m("Action items: before and after", "待辦事項：前後對照", "待办事项：前后对照"),
    "reports.h.review": _m("Review meeting", "檢討會議", "复盘会议"),
    "reports.h.campaigns": _m("Leads by campaign", "各活動名單數", "各活动线索数"),
    "reports.h.satisfaction": _m(
        "Customer satisfaction and support signals", "客戶滿意度與客服訊號", "客户满意度与客服信号"
    ),
    "reports.satisfaction.summary": _m(
        "Mean CSAT {csat} of 5 from {responses} responses.",
        "平均滿意度 {csat} 分（滿分 5 分），共 {responses} 則回饋。",
        "平均满意度 {csat} 分（满分 5 分），共 {responses} 条反馈。",
    ),
    "reports.satisfaction.low": _m(
        "Low scores (3 of 5 or below): for the account owner and marketing to follow up.",
        "低分回饋（5 分制 3 分以下）：請客戶負責人與行銷跟進。",
        "低分反馈（5 分制 3 分及以下）：请客户负责人与市场跟进。",
    ),
    "reports.col.date": _m("Date", "日期", "日期"),
    "reports.col.company": _m("Company", "公司", "公司"),
    "reports.col.comment": _m("Comment", "意見", "意见"),
    "reports.col.metric": _m("Metric", "指標", "指标"),
    "reports.col.before": _m("Before", "之前", "之前"),
    "reports.col.after": _m("Now", "目前", "目前"),
    "reports.col.change": _m("Change", "變化", "变化"),
    "reports.col.side": _m("Side", "負責方", "负责方"),
    "reports.col.commitment": _m("Commitment", "承諾", "承诺"),
    "reports.col.actual": _m("Actual", "實際", "实际"),
    "reports.col.target": _m("Target", "目標", "目标"),
    "reports.col.met": _m("Met", "達成", "达成"),
    "reports.col.breaches": _m("Breaches", "違約筆數", "违约笔数"),
    "reports.col.goal": _m("Goal", "目標", "目标"),
    "reports.col.attainment": _m("Attainment", "達成率", "达成率"),
    "reports.col.forecast": _m("Run-rate forecast", "依目前速度預測", "按当前速度预测"),
    "reports.col.team": _m("Team", "團隊", "团队"),
    "reports.col.own": _m("Own goals", "自身目標", "自身目标"),
    "reports.col.cross": _m("Credited from the other team", "來自對方團隊的成果", "来自对方团队的成果"),
    "reports.col.score": _m("Score", "分數", "分数"),
    "reports.col.finding": _m("Finding", "發現", "发现"),
    "reports.col.item": _m("Action item", "待辦事項", "待办事项"),
    "reports.col.owner": _m("Owner", "負責人", "负责人"),
    "reports.col.due": _m("Due", "到期日", "到期日"),
    "reports.col.status": _m("Status", "狀態", "状态"),
    "reports.col.segment": _m("Segment", "區隔", "细分"),
    "reports.col.campaign": _m("Campaign (utm_campaign)", "活動 (utm_campaign)", "活动 (utm_campaign)"),
    "reports.col.leads": _m("Leads", "名單數", "线索数"),
    "reports.col.term": _m("Term", "名詞", "名词"),
    "reports.col.definition": _m("Definition", "定義", "定义"),
    "reports.col.unit": _m("Unit", "單位", "单位"),
    "reports.col.code": _m("Code", "代碼", "代码"),
    "reports.col.from": _m("From", "從", "从"),
    "reports.col.to": _m("May move to", "可變更為", "可变更为"),
    "reports.yes": _m("yes", "是", "是"),
    "reports.no": _m("no", "否", "否"),
    "reports.none": _m("Nothing to report.", "本期無事項。", "本期无事项。"),
    "reports.no_review": _m(
        "No review was recorded for this period.", "本期尚無檢討會議紀錄。", "本期尚无复盘会议记录。"
    ),
    "reports.minutes": _m("Minutes", "會議紀錄", "会议纪要"),
    "reports.attendees": _m("Attendees", "與會者", "与会者"),
    "reports.side.marketing": _m("Marketing", "行銷", "市场"),
    "reports.side.sales": _m("Sales", "業務", "销售"),
    "reports.side.joint": _m("Both teams", "雙方共同", "双方共同"),
    "reports.cross.marketing": _m(
        "share of won revenue from marketing's leads",
        "來自行銷名單的成交營收占比",
        "来自市场线索的成交营收占比",
    ),
    "reports.cross.sales": _m(
        "SLA compliance and acceptance of hand-offs", "SLA 達成率與交接接受率", "SLA 达成率与交接接受率"
    ),
    "reports.weights": _m(
        "Score = {own}% own goals (attainment capped at {cap}) + {cross}% the other team's outcome",
        "分數 = {own}% 自身目標（達成率上限 {cap}）+ {cross}% 對方團隊的成果",
        "分数 = {own}% 自身目标（达成率上限 {cap}）+ {cross}% 对方团队的成果",
    ),
    "reports.chart.count": _m("Leads", "名單數", "线索数"),
    "reports.chart.stage": _m("Stage", "階段", "阶段"),
    "reports.h.follow_up": _m("Leads or follow-up?", "名單品質還是跟進成效？", "线索质量还是跟进成效？"),
    "reports.follow_up.sentence": _m(
        "MQL to SQL within {days} days went from {before} ({period_before}) to {after} ({period_after}):"
        " {leads} from which leads came (channel mix, marketing), {follow_up} from how they were followed up"
        " (conversion within each channel, sales).",
        "{days} 天內 MQL 轉 SQL 的比例從 {before}（{period_before}）變為 {after}（{period_after}）："
        "名單組合（各通路占比，行銷）影響 {leads}，跟進成效（各通路內的轉換，業務）影響 {follow_up}。",
        "{days} 天内 MQL 转 SQL 的比例从 {before}（{period_before}）变为 {after}（{period_after}）："
        "线索组合（各渠道占比，市场）影响 {leads}，跟进成效（各渠道内的转化，销售）影响 {follow_up}。",
    ),
    "reports.pp": _m("{value} pp", "{value} 個百分點", "{value} 个百分点"),
    # Metric short names (the declarations carry the full definitions)
    "reports.metric.stage_count": _m("{stage} count", "{stage}數", "{stage}数"),
    "reports.metric.win_rate": _m("Win rate", "贏單率", "赢单率"),
    "reports.metric.sla_compliance": _m("SLA compliance", "SLA 達成率", "SLA 达成率"),
    "reports.metric.rejection_rate": _m("Rejection rate", "退回率", "退回率"),
    "reports.metric.pipeline_created": _m("Pipeline created", "新增商機金額", "新增商机金额"),
    "reports.metric.avg_deal_size": _m("Average deal size", "客單價", "客单价"),
    # Commitments of the SLA ledger
    "reports.commitment.mql_volume": _m("MQL volume", "MQL 數量", "MQL 数量"),
    "reports.commitment.mql_to_sql_rate": _m(
        "MQL to SQL quality floor", "MQL 轉 SQL 品質下限", "MQL 转 SQL 质量下限"
    ),
    "reports.commitment.first_response": _m("First response within SLA", "SLA 內首次回應", "SLA 内首次响应"),
    "reports.commitment.attempts": _m("Required contact attempts", "規定聯繫次數", "规定联系次数"),
    "reports.commitment.acceptance": _m("Accept or reject in time", "按時接受或退回", "按时接受或退回"),
    # Glossary
    "reports.glossary.intro": _m(
        "The definitions both teams approved. Every number in closedloop is computed from these.",
        "雙方共同核可的定義。closedloop 的每個數字都依此計算。",
        "双方共同核可的定义。closedloop 的每个数字都依此计算。",
    ),
    "reports.glossary.stages": _m("Lifecycle stages", "生命週期階段", "生命周期阶段"),
    "reports.glossary.transitions": _m("Allowed stage changes", "允許的階段變更", "允许的阶段变更"),
    "reports.glossary.metrics": _m("Metrics", "指標", "指标"),
    "reports.glossary.reasons": _m("Rejection reasons", "退回原因", "退回原因"),
    "reports.glossary.sla": _m("SLA terms", "SLA 條款", "SLA 条款"),
    "reports.glossary.rules": _m(
        "A lead that skips a stage reaches it at the same instant (implied); implied MQLs never count for marketing's commitments. Nothing rewrites history: a correction is a new event that voids an earlier one.",
        "略過階段的名單視為同時到達該階段（推定）；推定的 MQL 不計入行銷承諾。歷史不會被改寫：更正是一筆作廢先前事件的新事件。",
        "跳过阶段的线索视为同时到达该阶段（推定）；推定的 MQL 不计入市场承诺。历史不会被改写：更正是一条作废先前事件的新事件。",
    ),
    "reports.stage_when.lead": _m(
        "first identified (form submit, import, manual entry)",
        "首次識別（表單提交、匯入、手動建立）",
        "首次识别（表单提交、导入、手动录入）",
    ),
    "reports.stage_when.mql": _m(
        "the score reaches the MQL threshold, or a high-intent action, and the data-quality gate passes",
        "分數達到 MQL 門檻或有高意向行為，且通過資料品質檢查",
        "分数达到 MQL 阈值或有高意向行为，且通过数据质量检查",
    ),
    "reports.stage_when.sal": _m("sales accepts the hand-off", "業務接受交接", "销售接受交接"),
    "reports.stage_when.sql": _m(
        "sales confirms need, budget, authority, timing",
        "業務確認需求、預算、決策權與時程",
        "销售确认需求、预算、决策权与时间",
    ),
    "reports.stage_when.opportunity": _m("a deal is opened for it", "為其建立商機", "为其创建商机"),
    "reports.stage_when.customer": _m("a deal is won", "商機成交", "商机成交"),
    "reports.stage_when.recycled": _m(
        "rejected or stalled, back to nurture, with a reason",
        "被退回或停滯，回到培育，需附原因",
        "被退回或停滞，回到培育，需附原因",
    ),
    "reports.stage_when.disqualified": _m(
        "never a fit, with a reason", "確定不符，需附原因", "确定不符，需附原因"
    ),
    "reports.stage_when.lost": _m(
        "every open deal lost, with a reason", "所有未結商機皆失單，需附原因", "所有未结商机皆丢单，需附原因"
    ),
    "reports.sla.first_response": _m(
        "First sales response within {hours} business hours of the hand-off",
        "交接後 {hours} 個營業小時內業務首次回應",
        "交接后 {hours} 个工作小时内销售首次响应",
    ),
    "reports.sla.compliance": _m(
        "At least {share} of hand-offs answered within that time",
        "至少 {share} 的交接於時限內回應",
        "至少 {share} 的交接于时限内响应",
    ),
    "reports.sla.attempts": _m(
        "{attempts} contact attempts within {days} days",
        "{days} 天內聯繫 {attempts} 次",
        "{days} 天内联系 {attempts} 次",
    ),
    "reports.sla.decision": _m(
        "Accept or reject (with a reason) within {hours} business hours",
        "{hours} 個營業小時內接受或退回（附原因）",
        "{hours} 个工作小时内接受或退回（附原因）",
    ),
    "reports.sla.mql_volume": _m(
        "Marketing delivers {count} MQLs per month",
        "行銷每月提供 {count} 筆 MQL",
        "市场每月提供 {count} 条 MQL",
    ),
    "reports.sla.mql_quality": _m(
        "At least {share} of MQLs reach SQL", "至少 {share} 的 MQL 達到 SQL", "至少 {share} 的 MQL 达到 SQL"
    ),
    "reports.sla.version": _m(
        "SLA policy version {version}, in force since {since}",
        "SLA 政策第 {version} 版，自 {since} 起生效",
        "SLA 政策第 {version} 版，自 {since} 起生效",
    ),
    "reports.sla.default_version": _m(
        "SLA policy: the built-in default (no approved version yet)",
        "SLA 政策：系統預設（尚無核可版本）",
        "SLA 政策：系统默认（尚无核可版本）",
    ),
    "reports.sla.marketing_promises": _m("Marketing commits to", "行銷承諾", "市场承诺"),
    "reports.sla.sales_promises": _m("Sales commits to", "業務承諾", "销售承诺"),
    "reports.sla.signature": _m("Signature and date", "簽名與日期", "签名与日期"),
    "reports.sla.business_hours": _m(
        "Hours are business hours of the team's calendar (holidays and make-up days included).",
        "時數以團隊行事曆的營業時間計算（含假日與補班日）。",
        "时数以团队日历的工作时间计算（含假日与调休日）。",
    ),
    # CLI
    "reports.cli.written": _m("Wrote {path}", "已寫入 {path}", "已写入 {path}"),
    "reports.error.out": _m(
        "Cannot write {path}: {error}", "無法寫入 {path}：{error}", "无法写入 {path}：{error}"
    ),
    # Report packs by email (subscriptions)
    "reports.subscription.no_email_channel": _m(
        "No email channel is set up: an admin adds one with `closedloop notify channel add --kind email`.",
        "尚未設定電子郵件通道：請管理員以 `closedloop notify channel add --kind email` 新增。",
        "尚未设置电子邮件通道：请管理员用 `closedloop notify channel add --kind email` 添加。",
    ),
    "reports.subscription.user_or_team": _m(
        "Subscribe either a user or a team.",
        "請指定一位使用者或一個團隊（擇一）。",
        "请指定一位用户或一个团队（二选一）。",
    ),
    "reports.subscription.no_team": _m("Unknown team {id}", "未知的團隊 {id}", "未知的团队 {id}"),
    "reports.subscription.not_found": _m("Subscription {id} not found", "找不到訂閱 {id}", "找不到订阅 {id}"),
    "reports.subscription.bad_value": _m(
        "{field} must be one of {allowed} (got {value})",
        "{field} 必須是 {allowed} 之一（收到 {value}）",
        "{field} 必须是 {allowed} 之一（收到 {value}）",
    ),
}
