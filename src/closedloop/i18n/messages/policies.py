"""Messages of the shared definitions' approvals (SPEC section 4) that the policies service adds."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "policy.error.own_proposal": {
        "en": "You proposed version {version}: a second person has to approve it",
        "zh-TW": "版本 {version} 是您提出的，必須由另一人核准",
        "zh-CN": "版本 {version} 是您提出的，必须由另一人批准",
    },
    "policy.error.needs_person": {
        "en": "A policy approval needs a person, not the system",
        "zh-TW": "規則核准必須由人執行，不能由系統代為核准",
        "zh-CN": "规则批准必须由人执行，不能由系统代为批准",
    },
    "policy.error.not_found": {
        "en": "Policy version {id} not found",
        "zh-TW": "找不到規則版本 {id}",
        "zh-CN": "找不到规则版本 {id}",
    },
    "policy.error.time_zone": {
        "en": "effective_from needs a time zone",
        "zh-TW": "生效時間必須包含時區",
        "zh-CN": "生效时间必须包含时区",
    },
}
