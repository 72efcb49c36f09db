"""Messages of `closedloop demo`."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "demo.generating": {
        "en": "Generating {leads} leads (seed {seed}, the two years before {anchor})",
        "zh-TW": "正在產生 {leads} 筆潛在客戶（種子 {seed}，{anchor} 之前的兩年）",
        "zh-CN": "正在生成 {leads} 条潜在客户（种子 {seed}，{anchor} 之前的两年）",
    },
    "demo.loading": {"en": "Loading", "zh-TW": "載入中", "zh-CN": "载入中"},
    "demo.login_header": {
        "en": "Sign in at {url} with the password {password} and one of these emails:",
        "zh-TW": "請在 {url} 以密碼 {password} 及下列其中一個電子郵件登入：",
        "zh-CN": "请在 {url} 使用密码 {password} 及下列其中一个邮箱登录：",
    },
    "demo.role.admin": {"en": "admin", "zh-TW": "系統管理員", "zh-CN": "系统管理员"},
    "demo.role.manager": {"en": "manager", "zh-TW": "主管", "zh-CN": "主管"},
    "demo.role.marketing": {"en": "marketing", "zh-TW": "行銷", "zh-CN": "市场"},
    "demo.role.sales": {"en": "sales rep", "zh-TW": "業務", "zh-CN": "销售"},
    "demo.role.viewer": {"en": "viewer (read only)", "zh-TW": "檢視者（唯讀）", "zh-CN": "查看者（只读）"},
    "demo.start_server": {
        "en": "Start the web app with: closedloop serve (or closedloop demo --serve)",
        "zh-TW": "啟動網頁應用程式：closedloop serve（或 closedloop demo --serve）",
        "zh-CN": "启动网页应用：closedloop serve（或 closedloop demo --serve）",
    },
    "demo.serving": {
        "en": "Serving the demo at {url} (Ctrl+C to stop)",
        "zh-TW": "示範環境已在 {url} 提供服務（按 Ctrl+C 停止）",
        "zh-CN": "演示环境已在 {url} 提供服务（按 Ctrl+C 停止）",
    },
    "demo.error.local_only": {
        "en": "without CLOSEDLOOP_SECRET_KEY the demo server binds to 127.0.0.1 only (asked for {host})",
        "zh-TW": "未設定 CLOSEDLOOP_SECRET_KEY 時，示範伺服器只能綁定 127.0.0.1（要求的是 {host}）",
        "zh-CN": "未设置 CLOSEDLOOP_SECRET_KEY 时，演示服务器只能绑定 127.0.0.1（请求的是 {host}）",
    },
    "demo.error.already_loaded": {
        "en": "the store already holds leads: run `closedloop demo --replace` to clear and reload it",
        "zh-TW": "資料庫已有潛在客戶資料：請執行 `closedloop demo --replace` 清除後重新載入",
        "zh-CN": "数据库已有潜在客户数据：请运行 `closedloop demo --replace` 清除后重新载入",
    },
    "demo.error.scale_and_leads": {
        "en": "give either --scale or --leads, not both",
        "zh-TW": "--scale 與 --leads 只能擇一",
        "zh-CN": "--scale 与 --leads 只能二选一",
    },
    "demo.error.leads_range": {
        "en": "--leads must be between {low} and {high}",
        "zh-TW": "--leads 必須介於 {low} 與 {high} 之間",
        "zh-CN": "--leads 必须介于 {low} 与 {high} 之间",
    },
}
