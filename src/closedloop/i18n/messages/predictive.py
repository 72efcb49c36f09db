"""Messages of predictive scoring and churn risk (`closedloop score`, `closedloop churn`)."""

from __future__ import annotations


def _m(en: str, tw: str, cn: str) -> dict[str, str]:
    return {"en": en, "zh-TW": tw, "zh-CN": cn}


_FEATURES = {
    "industry": _m("Industry", "產業", "行业"),
    "company_size": _m("Company size", "公司規模", "公司规模"),
    "region": _m("Region", "區域", "区域"),
    "country": _m("Country", "國家", "国家"),
    "lead_type": _m("Lead type", "名單類型", "线索类型"),
    "source_type": _m("Source", "來源類型", "来源类型"),
    "first_channel": _m("First-touch channel", "首次接觸管道", "首次接触渠道"),
    "first_campaign": _m("First-touch campaign", "首次接觸活動", "首次接触活动"),
    "first_landing_page": _m("First landing page", "首次到達頁", "首次落地页"),
    "month": _m("Month of the year", "月份", "月份"),
    "stage_at_moment": _m("Stage at scoring time", "評分時的階段", "评分时的阶段"),
    "lead_age_days": _m("Days since the lead was created", "建立至今天數", "创建至今天数"),
    "touches": _m("Marketing touches so far", "至今行銷接觸次數", "至今营销接触次数"),
    "touches_30d": _m("Touches in the last 30 days", "近 30 天接觸次數", "近 30 天接触次数"),
    "page_views": _m("Page views", "網頁瀏覽次數", "网页浏览次数"),
    "ad_clicks": _m("Ad clicks", "廣告點擊次數", "广告点击次数"),
    "form_submits": _m("Form submissions", "表單提交次數", "表单提交次数"),
    "email_engagements": _m("Email opens and clicks", "郵件開啟與點擊", "邮件打开与点击"),
    "events_attended": _m("Events and webinars", "活動與線上研討會", "活动与在线研讨会"),
    "messages": _m("Chat, LINE and WeChat messages", "聊天、LINE 與微信訊息", "聊天、LINE 与微信消息"),
    "days_since_last_touch": _m("Days since the last touch", "距上次接觸天數", "距上次接触天数"),
    "response_hours": _m("Hours to the first sales response", "業務首次回應時數", "销售首次响应小时数"),
    "awaiting_response_hours": _m(
        "Hours waiting for a sales response", "等待業務回應時數", "等待销售响应小时数"
    ),
    "tenure_months": _m("Months as a customer", "成為客戶月數", "成为客户月数"),
    "revenue_3m": _m("Revenue in the last 3 months", "近 3 個月營收", "近 3 个月营收"),
    "revenue_prior_3m": _m("Revenue in the 3 months before", "前 3 個月營收", "前 3 个月营收"),
    "revenue_12m": _m("Revenue in the last 12 months", "近 12 個月營收", "近 12 个月营收"),
    "documents_12m": _m("Invoices and orders in 12 months", "12 個月內發票與訂單數", "12 个月内发票与订单数"),
    "refunds_12m": _m("Refunds in 12 months", "12 個月內退款次數", "12 个月内退款次数"),
    "days_since_last_document": _m("Days since the last invoice", "距上次開立發票天數", "距上次开票天数"),
    "covered_days_ahead": _m("Days still paid for", "已付費的剩餘天數", "已付费的剩余天数"),
    "has_subscription": _m("Has a subscription", "有訂閱", "有订阅"),
    "activities_90d": _m("Sales activities in 90 days", "90 天內業務活動次數", "90 天内销售活动次数"),
    "feedback_score_180d": _m("Satisfaction (last 180 days)", "滿意度（近 180 天）", "满意度（近 180 天）"),
    "feedback_count_180d": _m("Feedback received (180 days)", "收到的回饋（180 天）", "收到的反馈（180 天）"),
}

MESSAGES: dict[str, dict[str, str]] = {
    **{f"predictive.feature.{name}": text for name, text in _FEATURES.items()},
    "predictive.error.leaking": _m(
        "feature {feature} is refused: {column} holds the outcome or a later fact",
        "特徵 {feature} 遭拒：{column} 含有結果或之後才知道的資訊",
        "特征 {feature} 被拒绝：{column} 含有结果或之后才知道的信息",
    ),
    "predictive.error.personal": _m(
        "feature {feature} is refused: {column} is a personal trait",
        "特徵 {feature} 遭拒：{column} 屬於個人特徵",
        "特征 {feature} 被拒绝：{column} 属于个人特征",
    ),
    "predictive.error.undated": _m(
        "feature {feature} is refused: {column} cannot be read as of the scoring moment",
        "特徵 {feature} 遭拒：{column} 無法依評分時點讀取",
        "特征 {feature} 被拒绝：{column} 无法按评分时点读取",
    ),
    "predictive.error.too_little_data": _m(
        "too little data to train: {n} examples, and both outcomes are needed in every slice",
        "資料不足以訓練：{n} 筆樣本，且每個切分都需有兩種結果",
        "数据不足以训练：{n} 条样本，且每个切分都需有两种结果",
    ),
    "predictive.error.untrusted": _m(
        "the stored model holds unexpected types and was not loaded: {types}",
        "儲存的模型含有未預期的型別，未載入：{types}",
        "存储的模型含有意外的类型，未加载：{types}",
    ),
    "predictive.error.no_model": _m(
        "no active model for target {target}: run `closedloop score train` first",
        "目標 {target} 尚無啟用中的模型：請先執行 `closedloop score train`",
        "目标 {target} 尚无启用的模型：请先运行 `closedloop score train`",
    ),
    "predictive.error.no_previous": _m(
        "no earlier model version of {target} to roll back to",
        "{target} 沒有可回復的較早模型版本",
        "{target} 没有可回滚的较早模型版本",
    ),
    "predictive.error.target": _m(
        "unknown target {target} (allowed: {allowed})",
        "未知的目標 {target}（可用：{allowed}）",
        "未知的目标 {target}（可用：{allowed}）",
    ),
    "predictive.error.no_lead": _m(
        "lead {lead_id} not found", "找不到潛在客戶 {lead_id}", "找不到潜在客户 {lead_id}"
    ),
    "predictive.error.no_account": _m(
        "account {account_id} is not an active customer",
        "客戶 {account_id} 目前不是有效客戶",
        "客户 {account_id} 当前不是有效客户",
    ),
    "predictive.warning.small_sample": _m(
        "warning: too few training examples (or too few of one outcome) to trust these figures",
        "警告：訓練樣本（或某一種結果）太少，這些數字不可盡信",
        "警告：训练样本（或某一种结果）太少，这些数字不可尽信",
    ),
    "predictive.explain.up": _m(
        "{feature} = {value} raises the odds ({effect} log-odds)",
        "{feature} = {value} 提高機率（對數勝算 {effect}）",
        "{feature} = {value} 提高概率（对数几率 {effect}）",
    ),
    "predictive.explain.down": _m(
        "{feature} = {value} lowers the odds ({effect} log-odds)",
        "{feature} = {value} 降低機率（對數勝算 {effect}）",
        "{feature} = {value} 降低概率（对数几率 {effect}）",
    ),
    "predictive.explain.summary": _m(
        "Probability {probability}, against {base} for a typical record",
        "機率 {probability}，一般紀錄為 {base}",
        "概率 {probability}，一般记录为 {base}",
    ),
    "predictive.explain.advisory": _m(
        "Advisory only: the predictive score ranks and explains; it never changes a stage.",
        "僅供參考：預測分數用於排序與說明，不會變更階段。",
        "仅供参考：预测分数用于排序与说明，不会变更阶段。",
    ),
    "predictive.explain.pushing_up": _m("Pushing up", "推高的因素", "推高的因素"),
    "predictive.explain.pushing_down": _m("Pushing down", "拉低的因素", "拉低的因素"),
    "predictive.drift.alert": _m(
        "Model {version} has drifted ({reasons}): retrain or roll back",
        "模型 {version} 已漂移（{reasons}）：請重新訓練或回復",
        "模型 {version} 已漂移（{reasons}）：请重新训练或回滚",
    ),
    "predictive.cli.scored": _m(
        "Scored {scored} with {version} in {seconds:.2f} s",
        "已用 {version} 評分 {scored} 筆，耗時 {seconds:.2f} 秒",
        "已用 {version} 评分 {scored} 条，耗时 {seconds:.2f} 秒",
    ),
    "predictive.cli.rolled_back": _m(
        "Active version of {target} is now {version}",
        "{target} 的啟用版本現為 {version}",
        "{target} 的启用版本现为 {version}",
    ),
}
