"""Messages of the web app's settings pages: definitions and approvals, people and keys, capture, pipeline, SLA, routing, scoring, channel rules."""

from __future__ import annotations


def _m(en: str, tw: str, cn: str) -> dict[str, str]:
    return {"en": en, "zh-TW": tw, "zh-CN": cn}


MESSAGES: dict[str, dict[str, str]] = {
    "web.nav.settings": _m("Settings", "設定", "设置"),
    "web.settings.back": _m("← All settings", "← 所有設定", "← 所有设置"),
    "web.settings.pending": _m(
        "{count} proposal(s) wait for approval", "有 {count} 項提案等待核准", "有 {count} 项提案等待批准"
    ),
    # Areas of the hub
    "web.settings.policies": _m("Shared definitions and approvals", "共同定義與核准", "共同定义与批准"),
    "web.settings.policies_hint": _m(
        "Propose a change; a second person approves it, and it never applies to the past.",
        "提出變更，由另一人核准；變更不會套用到過去。",
        "提出变更，由另一人批准；变更不会应用到过去。",
    ),
    "web.settings.users": _m("Users, teams and API keys", "使用者、團隊與 API 金鑰", "用户、团队与 API 密钥"),
    "web.settings.users_hint": _m(
        "Add people, move them between teams, hand a leaver's work over, issue and revoke keys.",
        "新增人員、調整團隊、交接離職者的工作、發放與撤銷金鑰。",
        "添加人员、调整团队、交接离职者的工作、发放与撤销密钥。",
    ),
    "web.settings.sites": _m("Sites and capture snippet", "網站與追蹤碼", "网站与追踪代码"),
    "web.settings.sites_hint": _m(
        "Site keys, allowed origins and the code to paste into your pages.",
        "網站金鑰、允許的來源，以及要貼到網頁中的程式碼。",
        "网站密钥、允许的来源，以及要粘贴到网页中的代码。",
    ),
    "web.settings.pipeline": _m("Pipeline stages", "銷售階段", "销售阶段"),
    "web.settings.pipeline_hint": _m(
        "Stage names in three languages and the win probability of each stage.",
        "三種語言的階段名稱與各階段的贏單機率。",
        "三种语言的阶段名称与各阶段的赢单概率。",
    ),
    "web.settings.sla": _m("SLA and business hours", "SLA 與上班時間", "SLA 与工作时间"),
    "web.settings.sla_hint": _m(
        "How fast sales answers an MQL, counted in each team's business hours and holidays.",
        "業務回應 MQL 的時限，依各團隊的上班時間與假日計算。",
        "销售响应 MQL 的时限，按各团队的工作时间与假日计算。",
    ),
    "web.settings.routing": _m("Routing rules", "分派規則", "分配规则"),
    "web.settings.routing_hint": _m(
        "Which team and person receives each MQL.",
        "每個 MQL 分派給哪個團隊與人員。",
        "每个 MQL 分配给哪个团队与人员。",
    ),
    "web.settings.scoring": _m("Scoring rules", "評分規則", "评分规则"),
    "web.settings.scoring_hint": _m(
        "Fit and engagement points, bands and the MQL threshold, with a preview before you propose.",
        "符合度與互動分數、等級與 MQL 門檻，提案前可先預覽影響。",
        "匹配度与互动分数、等级与 MQL 阈值，提案前可先预览影响。",
    ),
    "web.settings.channels": _m("Channel rules", "管道規則", "渠道规则"),
    "web.settings.channels_hint": _m(
        "The ordered rules that name each touch's channel; re-derive history under a version.",
        "依序判定每次接觸所屬管道的規則；可依某版本重新推導歷史資料。",
        "按顺序判定每次接触所属渠道的规则；可按某版本重新推导历史数据。",
    ),
    # Policies page
    "web.settings.pending_title": _m("Waiting for approval", "等待核准", "等待批准"),
    "web.settings.none_pending": _m(
        "Nothing waits for approval. Propose a change below.",
        "目前沒有待核准的提案。可在下方提出變更。",
        "目前没有待批准的提案。可在下方提出变更。",
    ),
    "web.settings.proposed_by": _m("proposed by {who}", "提案人 {who}", "提案人 {who}"),
    "web.settings.effective": _m("takes effect {when}", "生效時間 {when}", "生效时间 {when}"),
    "web.settings.approved_sides": _m("Approved by", "已核准", "已批准"),
    "web.settings.payload": _m("Definition (JSON)", "定義內容（JSON）", "定义内容（JSON）"),
    "web.settings.approve": _m("Approve", "核准", "批准"),
    "web.settings.reject": _m("Reject", "退回", "驳回"),
    "web.settings.reject_reason": _m("Why not", "退回原因", "驳回原因"),
    "web.settings.own_hint": _m(
        "You proposed this; another person approves it.",
        "這是您提出的提案，需由其他人核准。",
        "这是您提出的提案，需由其他人批准。",
    ),
    "web.settings.propose": _m("Propose a change", "提出變更", "提出变更"),
    "web.settings.propose_button": _m("Propose", "送出提案", "提交提案"),
    "web.settings.kind": _m("Definition", "定義", "定义"),
    "web.settings.all_kinds": _m("All definitions", "所有定義", "所有定义"),
    "web.settings.effective_from": _m("Takes effect from", "生效時間", "生效时间"),
    "web.settings.reason": _m("Reason", "原因", "原因"),
    "web.settings.two_party_hint": _m(
        "It takes effect once one marketing and one sales approver (or a manager) approve it; approved late, it applies from the approval on.",
        "需由一位行銷與一位業務核准者（或主管）核准後才生效；若晚於生效時間才核准，則自核准時起生效。",
        "需由一位市场与一位销售批准人（或经理）批准后才生效；若晚于生效时间才批准，则自批准时起生效。",
    ),
    "web.settings.history": _m("History", "歷史紀錄", "历史记录"),
    "web.settings.no_history": _m(
        "No version yet: the built-in defaults are in force.",
        "尚無任何版本：目前使用內建預設值。",
        "尚无任何版本：目前使用内置默认值。",
    ),
    "web.settings.version": _m("Version", "版本", "版本"),
    "web.settings.status": _m("Status", "狀態", "状态"),
    "web.settings.proposer": _m("Proposed by", "提案人", "提案人"),
    "web.settings.status.proposed": _m("waiting", "待核准", "待批准"),
    "web.settings.status.approved": _m("approved", "已核准", "已批准"),
    "web.settings.status.rejected": _m("rejected", "已退回", "已驳回"),
    "web.settings.side.marketing": _m("marketing", "行銷", "市场"),
    "web.settings.side.sales": _m("sales", "業務", "销售"),
    "web.settings.done.proposed": _m(
        "Proposed. It waits for approval by a second person.",
        "已送出提案，等待另一人核准。",
        "已提交提案，等待另一人批准。",
    ),
    "web.settings.done.approved": _m("Approval recorded.", "已記錄核准。", "已记录批准。"),
    "web.settings.done.rejected": _m("Proposal rejected.", "已退回提案。", "已驳回提案。"),
    "web.policy.scoring": _m("Scoring rules and MQL threshold", "評分規則與 MQL 門檻", "评分规则与 MQL 阈值"),
    "web.policy.quality_gate": _m("Data-quality gate", "資料品質門檻", "数据质量门槛"),
    "web.policy.routing": _m("Routing rules", "分派規則", "分配规则"),
    "web.policy.sla": _m("SLA policy", "SLA 政策", "SLA 政策"),
    "web.policy.channel_rules": _m("Channel rules", "管道規則", "渠道规则"),
    "web.policy.stage_probabilities": _m("Stage probabilities", "階段贏單機率", "阶段赢单概率"),
    "web.policy.goals": _m("Goals", "目標", "目标"),
    # Errors
    "web.settings.error.when": _m(
        "Give a date and time, e.g. 2026-01-31 09:00.",
        "請輸入日期與時間，例如 2026-01-31 09:00。",
        "请输入日期与时间，例如 2026-01-31 09:00。",
    ),
    "web.settings.error.reason": _m("Give a reason.", "請填寫原因。", "请填写原因。"),
    "web.settings.error.kind": _m("Unknown definition.", "未知的定義。", "未知的定义。"),
    "web.settings.error.json": _m(
        "Not valid JSON (line {line}, column {column}).",
        "不是有效的 JSON（第 {line} 行第 {column} 欄）。",
        "不是有效的 JSON（第 {line} 行第 {column} 列）。",
    ),
    "web.settings.error.object": _m(
        "The definition must be a JSON object.", "定義內容必須是 JSON 物件。", "定义内容必须是 JSON 对象。"
    ),
    # Users, teams, keys
    "web.people.users": _m("Users", "使用者", "用户"),
    "web.people.email": _m("Email", "電子郵件", "电子邮件"),
    "web.people.name": _m("Name", "名稱", "名称"),
    "web.people.role_team": _m("Role and team", "角色與團隊", "角色与团队"),
    "web.people.role": _m("Role", "角色", "角色"),
    "web.people.team": _m("Team", "團隊", "团队"),
    "web.people.status": _m("Status", "狀態", "状态"),
    "web.people.active": _m("active", "啟用中", "启用中"),
    "web.people.inactive": _m("deactivated", "已停用", "已停用"),
    "web.people.leaver": _m("Leaver", "離職交接", "离职交接"),
    "web.people.successor": _m("Hand work to", "工作交接給", "工作交接给"),
    "web.people.deactivate": _m("Deactivate", "停用", "停用"),
    "web.people.add_user": _m("Add a user", "新增使用者", "添加用户"),
    "web.people.password": _m("First password", "初始密碼", "初始密码"),
    "web.people.teams": _m("Teams", "團隊", "团队"),
    "web.people.kind": _m("Kind", "類型", "类型"),
    "web.people.kind.marketing": _m("marketing", "行銷", "市场"),
    "web.people.kind.sales": _m("sales", "業務", "销售"),
    "web.people.kind.management": _m("management", "管理", "管理"),
    "web.people.kind.operations": _m("operations", "營運", "运营"),
    "web.people.members": _m("Active members", "在職成員", "在职成员"),
    "web.people.no_teams": _m(
        "No team yet. Add one below.", "尚無團隊，可在下方新增。", "尚无团队，可在下方添加。"
    ),
    "web.people.team_name": _m("Team name", "團隊名稱", "团队名称"),
    "web.people.add_team": _m("Add team", "新增團隊", "添加团队"),
    "web.people.keys": _m("API keys", "API 金鑰", "API 密钥"),
    "web.people.prefix": _m("Key id", "金鑰代號", "密钥代号"),
    "web.people.scopes": _m("Scopes", "權限範圍", "权限范围"),
    "web.people.scope.read": _m("read", "讀取", "读取"),
    "web.people.scope.write": _m("write", "寫入", "写入"),
    "web.people.scope.capture": _m("capture", "追蹤收集", "追踪收集"),
    "web.people.last_used": _m("Last used", "最後使用", "最后使用"),
    "web.people.revoked": _m("revoked {when}", "已於 {when} 撤銷", "已于 {when} 撤销"),
    "web.people.revoke": _m("Revoke", "撤銷", "撤销"),
    "web.people.no_keys": _m(
        "No API key yet. Create one below.", "尚無 API 金鑰，可在下方建立。", "尚无 API 密钥，可在下方创建。"
    ),
    "web.people.key_user": _m("For user", "所屬使用者", "所属用户"),
    "web.people.create_key": _m("Create key", "建立金鑰", "创建密钥"),
    "web.people.new_key": _m("Your new API key", "新的 API 金鑰", "新的 API 密钥"),
    "web.people.key": _m("Key", "金鑰", "密钥"),
    "web.people.key_once": _m("Key created.", "已建立金鑰。", "已创建密钥。"),
    "web.people.key_once_hint": _m(
        "Copy it now: it is shown this once and only its hash is kept.",
        "請立即複製：金鑰只會顯示這一次，系統僅保存其雜湊值。",
        "请立即复制：密钥只会显示这一次，系统仅保存其哈希值。",
    ),
    "web.people.done.user_created": _m("User added.", "已新增使用者。", "已添加用户。"),
    "web.people.done.user_updated": _m("User saved.", "已儲存使用者。", "已保存用户。"),
    "web.people.done.user_deactivated": _m(
        "User deactivated; their open work went to the successor.",
        "已停用使用者，其未完成的工作已交接。",
        "已停用用户，其未完成的工作已交接。",
    ),
    "web.people.done.team_created": _m("Team added.", "已新增團隊。", "已添加团队。"),
    "web.people.done.key_revoked": _m("Key revoked.", "已撤銷金鑰。", "已撤销密钥。"),
    "web.people.error.email": _m(
        "Give a valid email address.", "請輸入有效的電子郵件地址。", "请输入有效的电子邮件地址。"
    ),
    "web.people.error.role": _m("Choose a role.", "請選擇角色。", "请选择角色。"),
    "web.people.error.team": _m("Choose an existing team.", "請選擇現有的團隊。", "请选择现有的团队。"),
    "web.people.error.kind": _m("Choose a team kind.", "請選擇團隊類型。", "请选择团队类型。"),
    "web.people.error.successor": _m(
        "Choose who takes over the open work.", "請選擇接手未完成工作的人。", "请选择接手未完成工作的人。"
    ),
    "web.people.error.key_user": _m(
        "Choose an active user.", "請選擇啟用中的使用者。", "请选择启用中的用户。"
    ),
    "web.people.error.scopes": _m(
        "Tick at least one scope.", "請至少勾選一個權限範圍。", "请至少勾选一个权限范围。"
    ),
    # Sites and the capture snippet
    "web.sites.empty": _m(
        "No site is registered yet. Add your website below to get its snippet.",
        "尚未登記任何網站。請在下方新增網站以取得追蹤碼。",
        "尚未登记任何网站。请在下方添加网站以获取追踪代码。",
    ),
    "web.sites.off": _m("switched off", "已停用", "已停用"),
    "web.sites.key": _m("Site key", "網站金鑰", "网站密钥"),
    "web.sites.paste": _m(
        "Paste this line into every page of the site, before </body>:",
        "請將這一行貼到網站每一頁的 </body> 之前：",
        "请将这一行粘贴到网站每一页的 </body> 之前：",
    ),
    "web.sites.snippet": _m("Snippet to copy", "要複製的追蹤碼", "要复制的追踪代码"),
    "web.sites.form_hint": _m(
        "Forms on these pages are captured as they are submitted; the visitor's first touch is kept.",
        "這些網頁上的表單送出時會被記錄，並保留訪客的第一次接觸。",
        "这些网页上的表单提交时会被记录，并保留访客的第一次接触。",
    ),
    "web.sites.origins": _m(
        "Allowed origins (one a line)", "允許的來源（每行一個）", "允许的来源（每行一个）"
    ),
    "web.sites.origins_hint": _m(
        "Only pages served from these origins may send events with this key.",
        "只有來自這些來源的網頁可以用此金鑰傳送事件。",
        "只有来自这些来源的网页可以用此密钥发送事件。",
    ),
    "web.sites.active": _m("Key accepted", "接受此金鑰", "接受此密钥"),
    "web.sites.add": _m("Add a site", "新增網站", "添加网站"),
    "web.sites.name": _m("Site name", "網站名稱", "网站名称"),
    "web.sites.done.created": _m(
        "Site added: paste its snippet.", "已新增網站，請貼上追蹤碼。", "已添加网站，请粘贴追踪代码。"
    ),
    "web.sites.done.updated": _m("Site saved.", "已儲存網站設定。", "已保存网站设置。"),
    "web.sites.error.origins": _m(
        "Give at least one origin, e.g. https://www.example.com.",
        "請至少填寫一個來源，例如 https://www.example.com。",
        "请至少填写一个来源，例如 https://www.example.com。",
    ),
    # Domain errors raised by the services these pages added (deals.rename_stage, workspace.service)
    "deal.error.stage_name": _m(
        "Stage {stage} needs a name in every language (at most 100 characters).",
        "階段 {stage} 在每種語言都需要名稱（最多 100 字）。",
        "阶段 {stage} 在每种语言都需要名称（最多 100 字）。",
    ),
    "workspace.error.hours": _m(
        "{text} is not a span such as 09:00-12:00.",
        "{text} 不是像 09:00-12:00 這樣的時段。",
        "{text} 不是像 09:00-12:00 这样的时段。",
    ),
    "workspace.error.calendar_name": _m("A calendar needs a name.", "行事曆需要名稱。", "日历需要名称。"),
    "workspace.error.calendar_exists": _m(
        "A calendar named {name} already exists.", "已有名為 {name} 的行事曆。", "已有名为 {name} 的日历。"
    ),
    "workspace.error.day_kind": _m(
        "A day is a holiday or a make-up working day.",
        "日期類型須為假日或補班日。",
        "日期类型须为假日或调休上班日。",
    ),
    "workspace.error.no_calendar": _m("No such calendar.", "找不到此行事曆。", "找不到此日历。"),
    # Pipeline, SLA, routing
    "web.settings.in_force": _m(
        "Version in force: {version}.", "目前生效版本：{version}。", "当前生效版本：{version}。"
    ),
    "web.sales_settings.done.proposed": _m(
        "Proposed. It waits for approval by a second person.",
        "已送出提案，等待另一人核准。",
        "已提交提案，等待另一人批准。",
    ),
    "web.sales_settings.done.saved": _m("Saved.", "已儲存。", "已保存。"),
    "web.sales_settings.done.added": _m(
        "Stage added. Propose its win probability below.",
        "已新增階段，請在下方提出它的贏單機率。",
        "已新增阶段，请在下方提出它的赢单概率。",
    ),
    "web.sales_settings.error.number": _m("Give a number.", "請輸入數字。", "请输入数字。"),
    "web.sales_settings.error.range": _m(
        "Give a number from {low} to {high}.",
        "請輸入 {low} 到 {high} 之間的數字。",
        "请输入 {low} 到 {high} 之间的数字。",
    ),
    "web.sales_settings.error.positive": _m("Must be more than 0.", "必須大於 0。", "必须大于 0。"),
    "web.sales_settings.error.day": _m("Give a date.", "請輸入日期。", "请输入日期。"),
    "web.sales_settings.error.match": _m(
        "A rule needs at least one value to match.",
        "規則至少需要一個比對條件。",
        "规则至少需要一个匹配条件。",
    ),
    "web.pipeline_settings.stages": _m("Stages in order", "階段順序", "阶段顺序"),
    "web.pipeline_settings.keys_hint": _m(
        "Names are what people read; the key is what the data and imports refer to and never changes.",
        "名稱是顯示給使用者看的；代碼是資料與匯入所使用的，不會變更。",
        "名称是显示给用户看的；代码是数据与导入所使用的，不会变更。",
    ),
    "web.pipeline_settings.key": _m("Key", "代碼", "代码"),
    "web.pipeline_settings.outcome": _m("Outcome", "結果", "结果"),
    "web.pipeline_settings.outcome.open": _m("open", "進行中", "进行中"),
    "web.pipeline_settings.outcome.won": _m("won", "贏單", "赢单"),
    "web.pipeline_settings.outcome.lost": _m("lost", "輸單", "输单"),
    "web.pipeline_settings.probability": _m("Win probability", "贏單機率", "赢单概率"),
    "web.pipeline_settings.names": _m("Names", "名稱", "名称"),
    "web.pipeline_settings.name_in.en": _m("English", "英文", "英文"),
    "web.pipeline_settings.name_in.zh-TW": _m("Traditional Chinese", "繁體中文", "繁体中文"),
    "web.pipeline_settings.name_in.zh-CN": _m("Simplified Chinese", "簡體中文", "简体中文"),
    "web.pipeline_settings.order": _m("Order", "順序", "顺序"),
    "web.pipeline_settings.move_up": _m("Move {stage} up", "將「{stage}」上移", "将“{stage}”上移"),
    "web.pipeline_settings.move_down": _m("Move {stage} down", "將「{stage}」下移", "将“{stage}”下移"),
    "web.pipeline_settings.add": _m("Add a stage", "新增階段", "新增阶段"),
    "web.pipeline_settings.add_hint": _m(
        "A new stage is open and starts at 0% win probability: propose its probability below, "
        "and it counts in the weighted pipeline once both sides approve.",
        "新階段為進行中，贏單機率從 0% 開始：請在下方提出它的機率，雙方核准後才計入加權商機。",
        "新阶段为进行中，赢单概率从 0% 开始：请在下方提出它的概率，双方批准后才计入加权商机。",
    ),
    "web.pipeline_settings.forecast_category": _m("Forecast category", "預測類別", "预测类别"),
    "web.pipeline_settings.category.pipeline": _m("Pipeline", "管道中", "管道中"),
    "web.pipeline_settings.category.best_case": _m("Best case", "最佳情況", "最佳情况"),
    "web.pipeline_settings.category.commit": _m("Commit", "承諾", "承诺"),
    "web.pipeline_settings.after": _m("Place after", "放在此階段之後", "放在此阶段之后"),
    "web.pipeline_settings.after_last": _m("the last open stage", "最後一個進行中階段", "最后一个进行中阶段"),
    "web.pipeline_settings.add_button": _m("Add stage", "新增階段", "新增阶段"),
    "web.pipeline_settings.propose": _m(
        "Propose new win probabilities", "提出新的贏單機率", "提出新的赢单概率"
    ),
    "web.sla_settings.policy": _m("SLA policy", "SLA 政策", "SLA 政策"),
    "web.sla_settings.first_response_hours": _m(
        "First response within (business hours)", "首次回應時限（上班小時）", "首次响应时限（工作小时）"
    ),
    "web.sla_settings.accept_within_hours": _m(
        "Accept or reject within (business hours)", "接受或退回時限（上班小時）", "接受或驳回时限（工作小时）"
    ),
    "web.sla_settings.attempts": _m("Contact attempts", "聯繫次數", "联系次数"),
    "web.sla_settings.attempts_within_days": _m("Attempts within (days)", "聯繫期限（天）", "联系期限（天）"),
    "web.sla_settings.response_compliance": _m(
        "Answered on time (%)", "準時回應比例（%）", "按时响应比例（%）"
    ),
    "web.sla_settings.mql_volume_per_month": _m(
        "MQLs per month (marketing)", "每月 MQL 數（行銷）", "每月 MQL 数（市场）"
    ),
    "web.sla_settings.mql_to_sql_rate": _m(
        "MQL to SQL rate (%) (marketing)", "MQL 轉 SQL 比率（%）（行銷）", "MQL 转 SQL 比率（%）（市场）"
    ),
    "web.sla_settings.calendars": _m("Business hours and holidays", "上班時間與假日", "工作时间与假日"),
    "web.sla_settings.calendars_hint": _m(
        "SLA hours count only in a team's business hours; make-up working days (補班/调休) count as weekdays.",
        "SLA 時數只計算團隊的上班時間；補班日視同平日計算。",
        "SLA 时数只计算团队的工作时间；调休上班日视同工作日计算。",
    ),
    "web.sla_settings.no_calendars": _m(
        "No calendar yet: Monday to Friday 09:00-18:00 in the workspace time zone applies.",
        "尚無行事曆：目前以工作區時區的週一至週五 09:00-18:00 計算。",
        "尚无日历：目前按工作区时区的周一至周五 09:00-18:00 计算。",
    ),
    "web.sla_settings.new_calendar": _m("New calendar", "新增行事曆", "新建日历"),
    "web.sla_settings.calendar_name": _m("Calendar name", "行事曆名稱", "日历名称"),
    "web.sla_settings.day.mon": _m("Monday", "週一", "周一"),
    "web.sla_settings.day.tue": _m("Tuesday", "週二", "周二"),
    "web.sla_settings.day.wed": _m("Wednesday", "週三", "周三"),
    "web.sla_settings.day.thu": _m("Thursday", "週四", "周四"),
    "web.sla_settings.day.fri": _m("Friday", "週五", "周五"),
    "web.sla_settings.day.sat": _m("Saturday", "週六", "周六"),
    "web.sla_settings.day.sun": _m("Sunday", "週日", "周日"),
    "web.sla_settings.days": _m(
        "Holidays and make-up days this year", "今年的假日與補班日", "今年的假日与调休上班日"
    ),
    "web.sla_settings.no_days": _m("None this year.", "今年尚無。", "今年尚无。"),
    "web.sla_settings.kind": _m("Kind", "類型", "类型"),
    "web.sla_settings.kind.holiday": _m("holiday", "假日", "假日"),
    "web.sla_settings.kind.workday": _m("make-up working day", "補班日", "调休上班日"),
    "web.sla_settings.remove": _m("Remove", "移除", "移除"),
    "web.sla_settings.date": _m("Date", "日期", "日期"),
    "web.sla_settings.day_name": _m("Name", "名稱", "名称"),
    "web.sla_settings.add_day": _m("Add date", "新增日期", "添加日期"),
    "web.sla_settings.team_calendars": _m("Calendar of each team", "各團隊的行事曆", "各团队的日历"),
    "web.sla_settings.calendar": _m("Calendar", "行事曆", "日历"),
    "web.sla_settings.default_calendar": _m(
        "Workspace default (Mon-Fri 09:00-18:00)",
        "工作區預設（週一至週五 09:00-18:00）",
        "工作区默认（周一至周五 09:00-18:00）",
    ),
    "web.routing_settings.rules": _m("Routing rules", "分派規則", "分配规则"),
    "web.routing_settings.hint": _m(
        "The account owner first (if chosen), then the first matching row names the team, else the default team; within the team, round-robin.",
        "先分給客戶負責人（若勾選），再依第一條符合的規則決定團隊，否則分給預設團隊；團隊內輪流分派。",
        "先分给客户负责人（若勾选），再按第一条匹配的规则决定团队，否则分给默认团队；团队内轮流分配。",
    ),
    "web.routing_settings.owner_first": _m(
        "The account's owner receives the lead first", "優先分派給客戶負責人", "优先分配给客户负责人"
    ),
    "web.routing_settings.order": _m("Order", "順序", "顺序"),
    "web.routing_settings.key.region": _m("Region", "地區", "地区"),
    "web.routing_settings.key.country": _m("Country", "國家", "国家"),
    "web.routing_settings.key.industry": _m("Industry", "產業", "行业"),
    "web.routing_settings.key.lead_type": _m("Lead type", "名單類型", "线索类型"),
    "web.routing_settings.key.source_type": _m("Source type", "來源類型", "来源类型"),
    "web.routing_settings.rows_hint": _m(
        "Values are comma-separated; rows are tried in order; a row without a team is dropped.",
        "多個值以逗號分隔；依順序比對；未選團隊的列會被略過。",
        "多个值以逗号分隔；按顺序匹配；未选团队的行会被忽略。",
    ),
    "web.routing_settings.default_team": _m("Default team", "預設團隊", "默认团队"),
    # Scoring
    "web.scoring_settings.rules": _m("Scoring rules", "評分規則", "评分规则"),
    "web.scoring_settings.hint": _m(
        "Fit rules (lead fields), engagement rules (touches, with decay), bands A/B/C and the MQL threshold.",
        "符合度規則（名單欄位）、互動規則（接觸，含衰減）、A/B/C 等級與 MQL 門檻。",
        "匹配度规则（线索字段）、互动规则（接触，含衰减）、A/B/C 等级与 MQL 阈值。",
    ),
    "web.scoring_settings.preview": _m("Preview the effect", "預覽影響", "预览影响"),
    "web.scoring_settings.preview_title": _m(
        "What these rules would change", "這組規則會造成的變化", "这组规则会造成的变化"
    ),
    "web.scoring_settings.changed": _m(
        "{changed} of {leads} leads would change band.",
        "{leads} 筆名單中有 {changed} 筆會改變等級。",
        "{leads} 条线索中有 {changed} 条会改变等级。",
    ),
    "web.scoring_settings.threshold": _m(
        "{up} would newly reach the MQL threshold; {down} would fall below it.",
        "{up} 筆會新達到 MQL 門檻；{down} 筆會低於門檻。",
        "{up} 条会新达到 MQL 阈值；{down} 条会低于阈值。",
    ),
    "web.scoring_settings.matrix": _m(
        "Leads by band now (rows) and under these rules (columns)",
        "名單依目前等級（列）與新規則下等級（欄）",
        "线索按当前等级（行）与新规则下等级（列）",
    ),
    "web.scoring_settings.now_vs_new": _m("Now \\ new", "目前 \\ 新", "当前 \\ 新"),
    "web.scoring_settings.preview_hint": _m(
        "Both sides are scored now, from the same touches; nothing is saved until a proposal is approved.",
        "兩者皆以目前時間、相同的接觸資料計算；提案核准前不會儲存任何變更。",
        "两者皆以当前时间、相同的接触数据计算；提案批准前不会保存任何变更。",
    ),
    # Channel rules editor
    "web.channels.to_campaigns": _m("← Campaigns and channels", "← 活動與管道", "← 活动与渠道"),
    "web.channels.link": _m("Edit the channel rules", "編輯管道規則", "编辑渠道规则"),
    "web.channels.preview_title": _m(
        "What these rules would change", "這組規則會造成的變化", "这组规则会造成的变化"
    ),
    "web.channels.changed": _m(
        "{changed} of {touches} rule-derived touches would change channel.",
        "{touches} 筆依規則判定的接觸中，有 {changed} 筆會改變管道。",
        "{touches} 条按规则判定的接触中，有 {changed} 条会改变渠道。",
    ),
    "web.channels.moves": _m("Moves", "變動", "变动"),
    "web.channels.move": _m("From -> to", "原管道 -> 新管道", "原渠道 -> 新渠道"),
    "web.channels.touches": _m("Touches", "接觸數", "接触数"),
    "web.channels.no_moves": _m(
        "No touch would change channel.", "沒有接觸會改變管道。", "没有接触会改变渠道。"
    ),
    "web.channels.rules": _m("Rules, first match wins", "規則（先符合者優先）", "规则（先匹配者优先）"),
    "web.channels.hint": _m(
        "An explicit channel on an imported row always wins over these rules.",
        "匯入資料中明確指定的管道一律優先於這些規則。",
        "导入数据中明确指定的渠道一律优先于这些规则。",
    ),
    "web.channels.channel": _m("Channel", "管道", "渠道"),
    "web.channels.when": _m(
        "Matches when (JSON list of tests)", "比對條件（JSON 清單）", "匹配条件（JSON 列表）"
    ),
    "web.channels.rows_hint": _m(
        "Tests: source_in, medium_in, campaign_in, referrer_domain_in (lists) or *_regex, click_id, blank. A row without a channel is dropped.",
        "條件：source_in、medium_in、campaign_in、referrer_domain_in（清單）或 *_regex、click_id、blank。未填管道的列會被略過。",
        "条件：source_in、medium_in、campaign_in、referrer_domain_in（列表）或 *_regex、click_id、blank。未填渠道的行会被忽略。",
    ),
    "web.channels.preview": _m("Preview the effect", "預覽影響", "预览影响"),
    "web.channels.propose": _m("Propose as a new version", "提出為新版本", "提出为新版本"),
    "web.channels.versions": _m("Versions", "版本", "版本"),
    "web.channels.in_force": _m("in force", "生效中", "生效中"),
    "web.channels.rederive": _m("Re-derive history", "重新推導歷史資料", "重新推导历史数据"),
    "web.channels.confirm": _m(
        "Yes, re-derive every rule-derived touch under version {version}",
        "確定依版本 {version} 重新推導所有依規則判定的接觸",
        "确定按版本 {version} 重新推导所有按规则判定的接触",
    ),
    "web.channels.rederive_button": _m("Re-derive", "重新推導", "重新推导"),
    "web.channels.awaiting": _m("waiting for approval", "等待核准", "等待批准"),
    "web.channels.runs": _m("Re-derivations so far", "歷次重新推導紀錄", "历次重新推导记录"),
    "web.channels.run_at": _m("When", "時間", "时间"),
    "web.channels.run_by": _m("By", "執行者", "执行者"),
    "web.channels.changed_col": _m("Touches changed", "變更的接觸數", "变更的接触数"),
    "web.channels.no_runs": _m(
        "History has never been re-derived: each touch keeps the channel of the rules in force when it arrived.",
        "尚未重新推導過：每筆接觸保留其進入時生效規則所判定的管道。",
        "尚未重新推导过：每条接触保留其进入时生效规则所判定的渠道。",
    ),
    "web.channels.done.proposed": _m(
        "Proposed. It waits for approval by a second person.",
        "已送出提案，等待另一人核准。",
        "已提交提案，等待另一人批准。",
    ),
    "web.channels.done.rederived": _m(
        "History re-derived; the run is listed below.",
        "已重新推導歷史資料，紀錄如下。",
        "已重新推导历史数据，记录如下。",
    ),
    "web.channels.error.when": _m(
        "Give a JSON list of test objects, such as the rows above.",
        "請輸入條件物件的 JSON 清單，格式同上方各列。",
        "请输入条件对象的 JSON 列表，格式同上方各行。",
    ),
    "web.channels.error.empty": _m("Keep at least one rule.", "至少需要一條規則。", "至少需要一条规则。"),
    "web.channels.error.past": _m(
        "A new version never applies to the past: choose a later moment.",
        "新版本不會套用到過去，請選擇之後的時間。",
        "新版本不会应用到过去，请选择之后的时间。",
    ),
    "web.channels.error.not_approved": _m(
        "Only an approved version can re-derive history.",
        "只有已核准的版本才能重新推導歷史資料。",
        "只有已批准的版本才能重新推导历史数据。",
    ),
    "web.channels.error.confirm": _m(
        "Tick the box to confirm the re-derivation.", "請勾選確認後再重新推導。", "请勾选确认后再重新推导。"
    ),
    "web.settings.preview_wait": _m(
        "The preview reads every lead and touch: on a large store it takes a few seconds.",
        "預覽會讀取所有名單與接觸：資料量大時需要數秒。",
        "预览会读取所有线索与接触：数据量大时需要数秒。",
    ),
    "web.settings.changes": _m(
        "Changes against the version in force (- now, + proposed)",
        "與目前生效版本的差異（- 目前，+ 提案）",
        "与当前生效版本的差异（- 当前，+ 提案）",
    ),
    "web.settings.no_changes": _m(
        "Same as the version in force.", "與目前生效版本相同。", "与当前生效版本相同。"
    ),
}
