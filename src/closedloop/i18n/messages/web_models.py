"""Messages of the web app's models page: the lead model's evaluation and its versions."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "web.models.title": {"en": "Lead models", "zh-TW": "名單預測模型", "zh-CN": "线索预测模型"},
    "web.models.empty": {
        "en": "No lead model has been trained yet. Run `closedloop score train` to train one.",
        "zh-TW": "尚未訓練任何名單模型。請執行 `closedloop score train` 進行訓練。",
        "zh-CN": "尚未训练任何线索模型。请运行 `closedloop score train` 进行训练。",
    },
    "web.models.target": {
        "en": "Target: {target}",
        "zh-TW": "預測目標:{target}",
        "zh-CN": "预测目标:{target}",
    },
    "web.models.active_version": {
        "en": "Active version {version}, trained {when}",
        "zh-TW": "使用中版本 {version},訓練於 {when}",
        "zh-CN": "当前版本 {version},训练于 {when}",
    },
    "web.models.no_active": {
        "en": "No active version for this target.",
        "zh-TW": "此目標沒有使用中的版本。",
        "zh-CN": "此目标没有当前版本。",
    },
    "web.models.examples": {
        "en": "{n_train} training examples, {n_test} test examples",
        "zh-TW": "訓練樣本 {n_train} 筆,測試樣本 {n_test} 筆",
        "zh-CN": "训练样本 {n_train} 条,测试样本 {n_test} 条",
    },
    "web.models.evaluation": {
        "en": "Evaluation on held-out leads",
        "zh-TW": "保留名單的評估",
        "zh-CN": "保留线索上的评估",
    },
    "web.models.col.measure": {"en": "Measure", "zh-TW": "指標", "zh-CN": "指标"},
    "web.models.col.model": {"en": "Model", "zh-TW": "模型", "zh-CN": "模型"},
    "web.models.col.baseline": {"en": "Baseline", "zh-TW": "基準模型", "zh-CN": "基准模型"},
    "web.models.col.naive_bayes": {"en": "Naive Bayes", "zh-TW": "單純貝氏", "zh-CN": "朴素贝叶斯"},
    "web.models.auc": {"en": "AUC (higher is better)", "zh-TW": "AUC(越高越好)", "zh-CN": "AUC(越高越好)"},
    "web.models.log_loss": {
        "en": "Log loss (lower is better)",
        "zh-TW": "對數損失(越低越好)",
        "zh-CN": "对数损失(越低越好)",
    },
    "web.models.brier": {
        "en": "Brier score (lower is better)",
        "zh-TW": "Brier 分數(越低越好)",
        "zh-CN": "Brier 分数(越低越好)",
    },
    "web.models.calibration": {
        "en": "Calibration by decile",
        "zh-TW": "各十分位的校準",
        "zh-CN": "各十分位的校准",
    },
    "web.models.calibration_hint": {
        "en": "Points on the diagonal mean the predicted probability matches the observed rate.",
        "zh-TW": "點落在對角線上,代表預測機率與實際比例一致。",
        "zh-CN": "点落在对角线上,表示预测概率与实际比例一致。",
    },
    "web.models.col.decile": {"en": "Decile", "zh-TW": "十分位", "zh-CN": "十分位"},
    "web.models.col.leads": {"en": "Leads", "zh-TW": "名單數", "zh-CN": "线索数"},
    "web.models.col.predicted": {"en": "Predicted", "zh-TW": "預測機率", "zh-CN": "预测概率"},
    "web.models.col.observed": {"en": "Observed", "zh-TW": "實際比例", "zh-CN": "实际比例"},
    "web.models.lift": {"en": "Lift by decile", "zh-TW": "各十分位的提升度", "zh-CN": "各十分位的提升度"},
    "web.models.col.positives": {"en": "Outcomes", "zh-TW": "達成數", "zh-CN": "达成数"},
    "web.models.col.rate": {"en": "Rate", "zh-TW": "比例", "zh-CN": "比例"},
    "web.models.col.lift": {"en": "Lift", "zh-TW": "提升度", "zh-CN": "提升度"},
    "web.models.col.capture": {"en": "Cumulative capture", "zh-TW": "累計捕獲率", "zh-CN": "累计捕获率"},
    "web.models.versions": {"en": "Versions", "zh-TW": "版本", "zh-CN": "版本"},
    "web.models.col.version": {"en": "Version", "zh-TW": "版本", "zh-CN": "版本"},
    "web.models.col.trained_at": {"en": "Trained", "zh-TW": "訓練時間", "zh-CN": "训练时间"},
    "web.models.col.status": {"en": "Status", "zh-TW": "狀態", "zh-CN": "状态"},
    "web.models.active": {"en": "Active", "zh-TW": "使用中", "zh-CN": "使用中"},
    "web.models.inactive": {"en": "Inactive", "zh-TW": "未使用", "zh-CN": "未使用"},
    "web.models.target.won": {"en": "Won deal", "zh-TW": "成交", "zh-CN": "成交"},
    "web.models.target.sql": {"en": "Sales-qualified", "zh-TW": "銷售合格", "zh-CN": "销售合格"},
    "web.models.lead.title": {
        "en": "Predicted win probability",
        "zh-TW": "預測成交機率",
        "zh-CN": "预测成交概率",
    },
    "web.models.lead.up": {"en": "Factors raising it", "zh-TW": "提高機率的因素", "zh-CN": "提高概率的因素"},
    "web.models.lead.down": {
        "en": "Factors lowering it",
        "zh-TW": "降低機率的因素",
        "zh-CN": "降低概率的因素",
    },
}
