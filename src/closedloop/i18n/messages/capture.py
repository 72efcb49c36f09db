"""Capture messages: sites, public endpoint errors, the form thank-you page."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "capture.error.bad_origin": {
        "en": "not an http(s) origin: {origin}",
        "zh-TW": "不是 http(s) 來源網址：{origin}",
        "zh-CN": "不是 http(s) 来源网址：{origin}",
    },
    "capture.error.site_name": {
        "en": "a site needs a name",
        "zh-TW": "網站需要名稱",
        "zh-CN": "网站需要名称",
    },
    "capture.error.no_origin": {
        "en": "a site needs at least one allowed origin (--origin URL)",
        "zh-TW": "網站至少需要一個允許的來源（--origin URL）",
        "zh-CN": "网站至少需要一个允许的来源（--origin URL）",
    },
    "capture.error.unknown_key": {
        "en": "unknown or inactive site key",
        "zh-TW": "網站金鑰不存在或已停用",
        "zh-CN": "网站密钥不存在或已停用",
    },
    "capture.error.origin": {
        "en": "origin {origin} is not allowed for this site",
        "zh-TW": "此網站不允許來源 {origin}",
        "zh-CN": "此网站不允许来源 {origin}",
    },
    "capture.error.too_large": {
        "en": "request body larger than {limit} bytes",
        "zh-TW": "請求內容超過 {limit} 位元組",
        "zh-CN": "请求内容超过 {limit} 字节",
    },
    "capture.error.rate": {
        "en": "too many events: retry after {seconds} s",
        "zh-TW": "事件過多：請於 {seconds} 秒後重試",
        "zh-CN": "事件过多：请于 {seconds} 秒后重试",
    },
    "capture.error.not_json": {
        "en": "the body is not valid JSON",
        "zh-TW": "請求內容不是有效的 JSON",
        "zh-CN": "请求内容不是有效的 JSON",
    },
    "capture.error.invalid": {
        "en": "{count} invalid: {detail}",
        "zh-TW": "{count} 筆無效：{detail}",
        "zh-CN": "{count} 条无效：{detail}",
    },
    "capture.title.rejected": {
        "en": "Events rejected",
        "zh-TW": "事件被拒",
        "zh-CN": "事件被拒",
    },
    "capture.form.thanks_title": {
        "en": "Thank you",
        "zh-TW": "謝謝您",
        "zh-CN": "谢谢您",
    },
    "capture.form.thanks": {
        "en": "Your details were received. We will be in touch soon.",
        "zh-TW": "我們已收到您的資料，將盡快與您聯繫。",
        "zh-CN": "我们已收到您的资料，将尽快与您联系。",
    },
    "capture.cli.site_key": {
        "en": "Site key:",
        "zh-TW": "網站金鑰：",
        "zh-CN": "网站密钥：",
    },
    "capture.cli.snippet": {
        "en": "Paste this snippet into every page of the site, before </body>:",
        "zh-TW": "請將以下程式碼貼到網站每一頁的 </body> 之前：",
        "zh-CN": "请将以下代码粘贴到网站每一页的 </body> 之前：",
    },
    "capture.cli.no_sites": {
        "en": "No sites registered yet: closedloop site create --name N --origin URL",
        "zh-TW": "尚未登錄網站：closedloop site create --name N --origin URL",
        "zh-CN": "尚未登记网站：closedloop site create --name N --origin URL",
    },
    "capture.cli.col_id": {"en": "id", "zh-TW": "編號", "zh-CN": "编号"},
    "capture.cli.col_name": {"en": "name", "zh-TW": "名稱", "zh-CN": "名称"},
    "capture.cli.col_key": {"en": "site key", "zh-TW": "網站金鑰", "zh-CN": "网站密钥"},
    "capture.cli.col_origins": {"en": "origins", "zh-TW": "允許來源", "zh-CN": "允许来源"},
}
