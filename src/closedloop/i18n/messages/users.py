"""Users, access, login and personal-data messages."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "users.error.bad_email": {
        "en": "Not a valid email address ({reason}).",
        "zh-TW": "電子郵件地址無效（{reason}）。",
        "zh-CN": "电子邮件地址无效（{reason}）。",
    },
    "users.error.team_name": {
        "en": "A team needs a name.",
        "zh-TW": "團隊需要名稱。",
        "zh-CN": "团队需要名称。",
    },
    "users.error.team_kind": {
        "en": "Team kind must be one of: {kinds}.",
        "zh-TW": "團隊類型必須是：{kinds}。",
        "zh-CN": "团队类型必须是：{kinds}。",
    },
    "users.error.team_exists": {
        "en": "A team named {name} already exists.",
        "zh-TW": "已有名為 {name} 的團隊。",
        "zh-CN": "已有名为 {name} 的团队。",
    },
    "users.error.no_team": {
        "en": "No team {name}.",
        "zh-TW": "找不到團隊 {name}。",
        "zh-CN": "找不到团队 {name}。",
    },
    "users.error.no_user": {
        "en": "No user {email}.",
        "zh-TW": "找不到使用者 {email}。",
        "zh-CN": "找不到用户 {email}。",
    },
    "users.error.short_password": {
        "en": "The password must have at least {min} characters.",
        "zh-TW": "密碼至少需要 {min} 個字元。",
        "zh-CN": "密码至少需要 {min} 个字符。",
    },
    "users.error.bad_role": {
        "en": "Role must be one of: {roles}.",
        "zh-TW": "角色必須是：{roles}。",
        "zh-CN": "角色必须是：{roles}。",
    },
    "users.error.user_exists": {
        "en": "A user with email {email} already exists.",
        "zh-TW": "已有電子郵件為 {email} 的使用者。",
        "zh-CN": "已有电子邮件为 {email} 的用户。",
    },
    "users.error.successor_self": {
        "en": "A leaver cannot be their own successor.",
        "zh-TW": "離職者不能是自己的接手人。",
        "zh-CN": "离职者不能是自己的接手人。",
    },
    "users.error.successor_inactive": {
        "en": "User {email} is not active.",
        "zh-TW": "使用者 {email} 已停用。",
        "zh-CN": "用户 {email} 已停用。",
    },
    "users.error.already_inactive": {
        "en": "User {email} is already deactivated.",
        "zh-TW": "使用者 {email} 已經停用。",
        "zh-CN": "用户 {email} 已经停用。",
    },
    "users.error.bad_scopes": {
        "en": "Scopes must be one or more of: {scopes}.",
        "zh-TW": "權限範圍必須是下列一項或多項：{scopes}。",
        "zh-CN": "权限范围必须是下列一项或多项：{scopes}。",
    },
    "users.error.no_key": {
        "en": "No API key {ref}.",
        "zh-TW": "找不到 API 金鑰 {ref}。",
        "zh-CN": "找不到 API 密钥 {ref}。",
    },
    "users.error.unauthenticated": {
        "en": "Sign in or send a valid API key.",
        "zh-TW": "請登入或提供有效的 API 金鑰。",
        "zh-CN": "请登录或提供有效的 API 密钥。",
    },
    "users.error.key_scope": {
        "en": "This API key lacks the {scope} scope.",
        "zh-TW": "此 API 金鑰沒有 {scope} 權限範圍。",
        "zh-CN": "此 API 密钥没有 {scope} 权限范围。",
    },
    "users.error.csrf": {
        "en": "Missing or wrong CSRF token: reload the page and try again.",
        "zh-TW": "CSRF 權杖缺少或錯誤：請重新載入頁面再試一次。",
        "zh-CN": "CSRF 令牌缺失或错误：请重新加载页面再试一次。",
    },
    "users.prompt.password": {"en": "Password", "zh-TW": "密碼", "zh-CN": "密码"},
    "users.created": {
        "en": "Created user {email} ({role}), id {id}.",
        "zh-TW": "已建立使用者 {email}（{role}），編號 {id}。",
        "zh-CN": "已创建用户 {email}（{role}），编号 {id}。",
    },
    "users.deactivated": {
        "en": "Deactivated {email}; {successor} took over {leads} leads, {handoffs} hand-offs and "
        "{deals} deals; {sessions} sessions and {api_keys} API keys stopped.",
        "zh-TW": "已停用 {email}；{successor} 接手 {leads} 筆潛在客戶、{handoffs} 筆交接與 {deals} 筆商機；"
        "{sessions} 個登入工作階段與 {api_keys} 把 API 金鑰已失效。",
        "zh-CN": "已停用 {email}；{successor} 接手 {leads} 条潜在客户、{handoffs} 条交接与 {deals} 个商机；"
        "{sessions} 个登录会话与 {api_keys} 个 API 密钥已失效。",
    },
    "users.team_created": {
        "en": "Created team {name}, id {id}.",
        "zh-TW": "已建立團隊 {name}，編號 {id}。",
        "zh-CN": "已创建团队 {name}，编号 {id}。",
    },
    "users.key_created": {
        "en": "API key {prefix} created: copy it now, it is not shown again.",
        "zh-TW": "已建立 API 金鑰 {prefix}：請立即複製，之後不會再顯示。",
        "zh-CN": "已创建 API 密钥 {prefix}：请立即复制，之后不会再显示。",
    },
    "users.key_revoked": {
        "en": "API key {prefix} revoked.",
        "zh-TW": "已撤銷 API 金鑰 {prefix}。",
        "zh-CN": "已撤销 API 密钥 {prefix}。",
    },
    "access.error.forbidden": {
        "en": "Your role may not {action} {resource}.",
        "zh-TW": "您的角色不能對 {resource} 執行 {action}。",
        "zh-CN": "您的角色不能对 {resource} 执行 {action}。",
    },
    "access.error.not_found": {
        "en": "No {resource} {id}.",
        "zh-TW": "找不到 {resource} {id}。",
        "zh-CN": "找不到 {resource} {id}。",
    },
    "access.error.owner_outside_scope": {
        "en": "You may only assign records to yourself or your team.",
        "zh-TW": "您只能將紀錄指派給自己或您的團隊。",
        "zh-CN": "您只能将记录指派给自己或您的团队。",
    },
    "access.error.stale_version": {
        "en": "Someone else changed this record first: reload it and try again.",
        "zh-TW": "此紀錄已被他人先行修改：請重新載入後再試。",
        "zh-CN": "此记录已被他人先行修改：请重新加载后再试。",
    },
    "access.error.duplicate": {
        "en": "A record with the same {field} already exists.",
        "zh-TW": "已有相同 {field} 的紀錄。",
        "zh-CN": "已有相同 {field} 的记录。",
    },
    "access.error.identity_required": {
        "en": "A lead needs at least one identity: email, phone, LINE user id, WeChat unionid "
        "or external id.",
        "zh-TW": "潛在客戶至少需要一項識別資料：電子郵件、電話、LINE 使用者 ID、微信 unionid 或外部編號。",
        "zh-CN": "潜在客户至少需要一项识别资料：电子邮件、电话、LINE 用户 ID、微信 unionid 或外部编号。",
    },
    "access.error.bad_identity": {
        "en": "Invalid {field}: {reason}",
        "zh-TW": "{field} 無效：{reason}",
        "zh-CN": "{field} 无效：{reason}",
    },
    "access.error.closing_deal": {
        "en": "Won and lost are set by closing the deal, not by editing its stage.",
        "zh-TW": "成交與失單需透過結案商機設定，不能直接修改階段。",
        "zh-CN": "成交与丢单需通过结案商机设置，不能直接修改阶段。",
    },
    "access.error.handoff_closed": {
        "en": "Only an open hand-off can be reassigned.",
        "zh-TW": "只有未結的交接可以重新指派。",
        "zh-CN": "只有未结的交接可以重新指派。",
    },
    "access.error.lead_or_deal": {
        "en": "An activity needs a lead or a deal.",
        "zh-TW": "活動需要對應一筆潛在客戶或商機。",
        "zh-CN": "活动需要对应一条潜在客户或商机。",
    },
    "access.error.period": {
        "en": "The period must end on or after its start.",
        "zh-TW": "期間結束日不可早於開始日。",
        "zh-CN": "期间结束日不可早于开始日。",
    },
    "access.error.unknown_stage": {
        "en": "Unknown pipeline stage {stage}.",
        "zh-TW": "未知的商機階段 {stage}。",
        "zh-CN": "未知的商机阶段 {stage}。",
    },
    "privacy.error.no_person": {
        "en": "No lead with email {email}.",
        "zh-TW": "找不到電子郵件為 {email} 的潛在客戶。",
        "zh-CN": "找不到电子邮件为 {email} 的潜在客户。",
    },
    "privacy.confirm_erase": {
        "en": "Erase every identity and free text of {email}? This cannot be undone.",
        "zh-TW": "確定要清除 {email} 的所有識別資料與自由文字？此動作無法復原。",
        "zh-CN": "确定要清除 {email} 的所有识别资料与自由文本？此操作无法撤销。",
    },
    "privacy.erased": {
        "en": "Erased {leads} lead records, kept {identities} identity hashes, "
        "cleaned {audit_entries} audit entries.",
        "zh-TW": "已清除 {leads} 筆潛在客戶紀錄，保留 {identities} 個識別雜湊，"
        "清理 {audit_entries} 筆稽核紀錄。",
        "zh-CN": "已清除 {leads} 条潜在客户记录，保留 {identities} 个识别哈希，"
        "清理 {audit_entries} 条审计记录。",
    },
    "auth.title": {"en": "Sign in to closedloop", "zh-TW": "登入 closedloop", "zh-CN": "登录 closedloop"},
    "auth.email": {"en": "Email", "zh-TW": "電子郵件", "zh-CN": "电子邮件"},
    "auth.password": {"en": "Password", "zh-TW": "密碼", "zh-CN": "密码"},
    "auth.submit": {"en": "Sign in", "zh-TW": "登入", "zh-CN": "登录"},
    "auth.failed": {
        "en": "Wrong email or password, or the account is locked for a while.",
        "zh-TW": "電子郵件或密碼錯誤，或帳號暫時鎖定。",
        "zh-CN": "电子邮件或密码错误，或账号暂时锁定。",
    },
    "auth.signed_in_as": {
        "en": "Signed in as {email}",
        "zh-TW": "已登入：{email}",
        "zh-CN": "已登录：{email}",
    },
    "auth.logout": {"en": "Sign out", "zh-TW": "登出", "zh-CN": "退出登录"},
    "auth.signed_out": {"en": "You are signed out.", "zh-TW": "您已登出。", "zh-CN": "您已退出登录。"},
    "auth.expired_form": {
        "en": "The form expired: please try again.",
        "zh-TW": "表單已過期：請再試一次。",
        "zh-CN": "表单已过期：请再试一次。",
    },
    "api.error.idempotency_key": {
        "en": "The Idempotency-Key header must be 1 to 200 printable characters.",
        "zh-TW": "Idempotency-Key 標頭必須是 1 到 200 個可列印字元。",
        "zh-CN": "Idempotency-Key 标头必须是 1 到 200 个可打印字符。",
    },
    "api.error.idempotency_reused": {
        "en": "This Idempotency-Key was already used for a different request.",
        "zh-TW": "此 Idempotency-Key 已用於另一個不同的請求。",
        "zh-CN": "此 Idempotency-Key 已用于另一个不同的请求。",
    },
    "api.error.idempotency_busy": {
        "en": "A request with this Idempotency-Key is still being processed: retry shortly.",
        "zh-TW": "使用此 Idempotency-Key 的請求仍在處理中：請稍後重試。",
        "zh-CN": "使用此 Idempotency-Key 的请求仍在处理中：请稍后重试。",
    },
    "auth.code": {
        "en": "Authenticator code (if two-step sign-in is on)",
        "zh-TW": "驗證器代碼（若已啟用兩步驟登入）",
        "zh-CN": "验证器代码（若已启用两步验证登录）",
    },
    "users.totp_enabled": {
        "en": "Two-step sign-in is on for {email}: add the URI above to an authenticator app now.",
        "zh-TW": "{email} 已啟用兩步驟登入：請立即將上方 URI 加入驗證器 App。",
        "zh-CN": "{email} 已启用两步验证登录：请立即将上方 URI 添加到验证器 App。",
    },
    "users.totp_disabled": {
        "en": "Two-step sign-in is off for {email}.",
        "zh-TW": "{email} 已關閉兩步驟登入。",
        "zh-CN": "{email} 已关闭两步验证登录。",
    },
}
