"""Inbound webhook messages: refusals a sending system's developer reads."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "integrations.error.unknown_kind": {
        "en": "unknown inbound kind {kind!r}: one of {kinds}",
        "zh-TW": "未知的接收類型 {kind!r};可用:{kinds}",
        "zh-CN": "未知的接收类型 {kind!r};可用:{kinds}",
    },
    "integrations.error.bad_name": {
        "en": "a source name is lower-case letters, digits, - and _ (it is part of the URL)",
        "zh-TW": "來源名稱只能使用小寫字母、數字、- 與 _(會成為網址的一部分)",
        "zh-CN": "来源名称只能使用小写字母、数字、- 与 _(会成为网址的一部分)",
    },
    "integrations.error.short_secret": {
        "en": "a signing secret has at least 16 characters",
        "zh-TW": "簽章密鑰至少需要 16 個字元",
        "zh-CN": "签名密钥至少需要 16 个字符",
    },
    "integrations.error.exists": {
        "en": "an inbound source named {name!r} already exists",
        "zh-TW": "已有名為 {name!r} 的接收來源",
        "zh-CN": "已有名为 {name!r} 的接收来源",
    },
    "integrations.error.no_source": {
        "en": "no inbound source {name!r}",
        "zh-TW": "找不到接收來源 {name!r}",
        "zh-CN": "找不到接收来源 {name!r}",
    },
    "integrations.error.not_json": {
        "en": "the body is not JSON",
        "zh-TW": "內容不是 JSON",
        "zh-CN": "内容不是 JSON",
    },
    "integrations.error.shape": {
        "en": 'the body must be {"events": [{...}, ...]}',
        "zh-TW": '內容必須是 {"events": [{...}, ...]}',
        "zh-CN": '内容必须是 {"events": [{...}, ...]}',
    },
    "integrations.error.too_many": {
        "en": "at most {max} events per delivery",
        "zh-TW": "每次傳送最多 {max} 筆事件",
        "zh-CN": "每次发送最多 {max} 条事件",
    },
    "integrations.error.no_delivery_id": {
        "en": "a signed delivery needs an X-Closedloop-Delivery id (at most 128 characters)",
        "zh-TW": "已簽章的傳送需要 X-Closedloop-Delivery 識別碼(最多 128 個字元)",
        "zh-CN": "已签名的发送需要 X-Closedloop-Delivery 标识(最多 128 个字符)",
    },
    "integrations.error.replayed": {
        "en": "delivery {id!r} was already received: replays are refused",
        "zh-TW": "傳送 {id!r} 已收過:拒絕重送",
        "zh-CN": "发送 {id!r} 已收到过:拒绝重放",
    },
    "integrations.error.bad_timestamp": {
        "en": "missing or malformed X-Closedloop-Timestamp",
        "zh-TW": "缺少或格式錯誤的 X-Closedloop-Timestamp",
        "zh-CN": "缺少或格式错误的 X-Closedloop-Timestamp",
    },
    "integrations.error.stale": {
        "en": "the signature timestamp is more than 5 minutes away from now",
        "zh-TW": "簽章時間與現在相差超過 5 分鐘",
        "zh-CN": "签名时间与现在相差超过 5 分钟",
    },
    "integrations.error.bad_signature": {
        "en": "signature mismatch",
        "zh-TW": "簽章不符",
        "zh-CN": "签名不符",
    },
    # Conversions sent back to the ad platforms
    "integrations.conversions.bad_kind": {
        "en": "unknown conversion {kind}: one of {kinds}",
        "zh-TW": "未知的轉換類型 {kind};可用:{kinds}",
        "zh-CN": "未知的转化类型 {kind};可用:{kinds}",
    },
    "integrations.conversions.bad_pixel": {
        "en": "a Meta pixel (dataset) id is 5 to 32 digits",
        "zh-TW": "Meta 像素(資料集)編號為 5 到 32 位數字",
        "zh-CN": "Meta 像素(数据集)编号为 5 到 32 位数字",
    },
    "integrations.conversions.need_pixel": {
        "en": "--pixel-id is required for Meta",
        "zh-TW": "Meta 需要 --pixel-id",
        "zh-CN": "Meta 需要 --pixel-id",
    },
    "integrations.conversions.written": {
        "en": "Wrote {path}: {exported} conversions ({skipped})",
        "zh-TW": "已寫入 {path}:{exported} 筆轉換({skipped})",
        "zh-CN": "已写入 {path}:{exported} 条转化({skipped})",
    },
    "integrations.conversions.skipped": {
        "en": "left out: {reasons}",
        "zh-TW": "未納入:{reasons}",
        "zh-CN": "未纳入:{reasons}",
    },
}
