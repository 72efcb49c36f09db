"""Messages of file imports and quarantine."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "imports.summary": {
        "en": "Import {kind} from {file} (preset {preset}): {status}",
        "zh-TW": "匯入 {kind}，檔案 {file}（格式 {preset}）：{status}",
        "zh-CN": "导入 {kind}，文件 {file}（格式 {preset}）：{status}",
    },
    "imports.counts": {
        "en": "rows {rows}: inserted {inserted}, updated {updated}, unchanged {unchanged}, rejected {rejected}",
        "zh-TW": "共 {rows} 列：新增 {inserted}、更新 {updated}、未變更 {unchanged}、拒絕 {rejected}",
        "zh-CN": "共 {rows} 行：新增 {inserted}、更新 {updated}、未变更 {unchanged}、拒绝 {rejected}",
    },
    "imports.status.done": {"en": "imported", "zh-TW": "已匯入", "zh-CN": "已导入"},
    "imports.status.failed": {
        "en": "nothing imported (invalid rows)",
        "zh-TW": "未匯入任何資料（有無效的列）",
        "zh-CN": "未导入任何数据（有无效的行）",
    },
    "imports.status.dry_run": {
        "en": "dry run, nothing written",
        "zh-TW": "試算，未寫入任何資料",
        "zh-CN": "试运行，未写入任何数据",
    },
    "imports.status.unchanged": {
        "en": "already imported, nothing changed",
        "zh-TW": "此檔案已匯入過，沒有變更",
        "zh-CN": "此文件已导入过，没有变更",
    },
    "imports.status.running": {"en": "running", "zh-TW": "執行中", "zh-CN": "运行中"},
    "imports.encoding": {
        "en": "encoding {encoding}, delimiter {delimiter}",
        "zh-TW": "編碼 {encoding}，分隔符號 {delimiter}",
        "zh-CN": "编码 {encoding}，分隔符 {delimiter}",
    },
    "imports.total_rows_skipped": {
        "en": "{n} total/subtotal rows skipped",
        "zh-TW": "略過 {n} 列合計／小計",
        "zh-CN": "跳过 {n} 行合计／小计",
    },
    "imports.duplicate_columns": {
        "en": "duplicate column names renamed: {columns}",
        "zh-TW": "重複的欄位名稱已改名：{columns}",
        "zh-CN": "重复的列名已改名：{columns}",
    },
    "imports.unknown_columns": {
        "en": "unknown columns (kept as custom fields): {columns}",
        "zh-TW": "未知欄位（存為自訂欄位）：{columns}",
        "zh-CN": "未知列（存为自定义字段）：{columns}",
    },
    "imports.unknown_owners": {
        "en": "unknown owner emails (records left unowned): {emails}",
        "zh-TW": "未知的負責人 email（紀錄不指派負責人）：{emails}",
        "zh-CN": "未知的负责人 email（记录不指派负责人）：{emails}",
    },
    "imports.stage_mapping": {
        "en": "stage mapping (file -> pipeline):",
        "zh-TW": "階段對應（檔案 -> 商機階段）：",
        "zh-CN": "阶段对应（文件 -> 商机阶段）：",
    },
    "imports.period": {
        "en": "report period {start} to {end} (spread evenly over its days)",
        "zh-TW": "報表期間 {start} 至 {end}（平均分攤到每天）",
        "zh-CN": "报表期间 {start} 至 {end}（平均分摊到每天）",
    },
    "imports.skipped_erased": {
        "en": "{n} rows skipped: the person was erased",
        "zh-TW": "略過 {n} 列：當事人資料已刪除",
        "zh-CN": "跳过 {n} 行：当事人数据已删除",
    },
    "imports.errors_header": {
        "en": "row\tcolumn\tvalue\treason",
        "zh-TW": "列\t欄位\t值\t原因",
        "zh-CN": "行\t列\t值\t原因",
    },
    "imports.errors_truncated": {
        "en": "... and {n} more errors (use --errors FILE for all)",
        "zh-TW": "……另有 {n} 個錯誤（用 --errors FILE 取得全部）",
        "zh-CN": "……另有 {n} 个错误（用 --errors FILE 获取全部）",
    },
    "imports.failed_summary": {
        "en": "{n} invalid rows, nothing imported; first: row {row}, column {column}: {reason}",
        "zh-TW": "{n} 列無效，未匯入任何資料；第一個：第 {row} 列，欄位 {column}：{reason}",
        "zh-CN": "{n} 行无效，未导入任何数据；第一个：第 {row} 行，列 {column}：{reason}",
    },
    "imports.skipped_summary": {
        "en": "{n} invalid rows kept in quarantine; first: row {row}, column {column}: {reason}",
        "zh-TW": "{n} 列無效，已放入隔離區；第一個：第 {row} 列，欄位 {column}：{reason}",
        "zh-CN": "{n} 行无效，已放入隔离区；第一个：第 {row} 行，列 {column}：{reason}",
    },
    "quarantine.none": {
        "en": "No quarantined records.",
        "zh-TW": "隔離區沒有紀錄。",
        "zh-CN": "隔离区没有记录。",
    },
    "quarantine.replayed": {
        "en": "Record {id} replayed: {outcome}",
        "zh-TW": "紀錄 {id} 已重新處理：{outcome}",
        "zh-CN": "记录 {id} 已重新处理：{outcome}",
    },
    "quarantine.still_invalid": {
        "en": "Record {id} is still invalid: {reason}",
        "zh-TW": "紀錄 {id} 仍然無效：{reason}",
        "zh-CN": "记录 {id} 仍然无效：{reason}",
    },
    "quarantine.discarded": {
        "en": "Record {id} discarded.",
        "zh-TW": "紀錄 {id} 已捨棄。",
        "zh-CN": "记录 {id} 已舍弃。",
    },
    "quarantine.fixed": {
        "en": "Record {id} updated: {field} = {value}",
        "zh-TW": "紀錄 {id} 已修正：{field} = {value}",
        "zh-CN": "记录 {id} 已修正：{field} = {value}",
    },
    "imports.error.kind": {
        "en": "unknown import kind: one of {kinds}",
        "zh-TW": "未知的匯入種類：須為 {kinds} 之一",
        "zh-CN": "未知的导入种类：须为 {kinds} 之一",
    },
    "imports.error.preset": {
        "en": "unknown preset: one of {presets}",
        "zh-TW": "未知的欄位對應格式：須為 {presets} 之一",
        "zh-CN": "未知的字段映射格式：须为 {presets} 之一",
    },
    "imports.error.no_file": {
        "en": 'upload the file as the multipart field "file"',
        "zh-TW": "請以 multipart 欄位「file」上傳檔案",
        "zh-CN": "请以 multipart 字段“file”上传文件",
    },
    "imports.error.too_large": {
        "en": "the file is larger than {limit} bytes",
        "zh-TW": "檔案超過 {limit} 位元組",
        "zh-CN": "文件超过 {limit} 字节",
    },
    "imports.error.date": {
        "en": "{field}: not a date (YYYY-MM-DD)",
        "zh-TW": "{field}：不是日期（YYYY-MM-DD）",
        "zh-CN": "{field}：不是日期（YYYY-MM-DD）",
    },
    "imports.reason.required": {
        "en": "required",
        "zh-TW": "必填",
        "zh-CN": "必填",
    },
    "imports.reason.required_date_or_period": {
        "en": "required (or period_start and period_end)",
        "zh-TW": "必填（或填 period_start 與 period_end）",
        "zh-CN": "必填（或填 period_start 和 period_end）",
    },
    "imports.reason.not_datetime": {
        "en": "not a date/time",
        "zh-TW": "不是日期／時間",
        "zh-CN": "不是日期/时间",
    },
    "imports.reason.not_date": {
        "en": "not a date: {value}",
        "zh-TW": "不是日期：{value}",
        "zh-CN": "不是日期：{value}",
    },
    "imports.reason.not_time": {
        "en": "not a time: {value}",
        "zh-TW": "不是時間：{value}",
        "zh-CN": "不是时间：{value}",
    },
    "imports.reason.not_number": {
        "en": "not a number: {value}",
        "zh-TW": "不是數字：{value}",
        "zh-CN": "不是数字：{value}",
    },
    "imports.reason.not_count": {
        "en": "not a whole non-negative number",
        "zh-TW": "不是非負整數",
        "zh-CN": "不是非负整数",
    },
    "imports.reason.not_email": {
        "en": "not an email address",
        "zh-TW": "不是電子郵件地址",
        "zh-CN": "不是电子邮件地址",
    },
    "imports.reason.too_long": {
        "en": "longer than {n} characters",
        "zh-TW": "超過 {n} 個字元",
        "zh-CN": "超过 {n} 个字符",
    },
    "imports.reason.not_touch_type": {
        "en": "not a touch type ({allowed})",
        "zh-TW": "不是接觸類型（{allowed}）",
        "zh-CN": "不是触点类型（{allowed}）",
    },
    "imports.reason.not_lead_type": {
        "en": "not a lead type ({allowed})",
        "zh-TW": "不是名單類型（{allowed}）",
        "zh-CN": "不是线索类型（{allowed}）",
    },
    "imports.reason.not_source_type": {
        "en": "not a source type ({allowed})",
        "zh-TW": "不是來源類型（{allowed}）",
        "zh-CN": "不是来源类型（{allowed}）",
    },
    "imports.reason.not_revenue_kind": {
        "en": "not a revenue kind ({allowed})",
        "zh-TW": "不是營收種類（{allowed}）",
        "zh-CN": "不是收入种类（{allowed}）",
    },
    "imports.reason.not_cost_kind": {
        "en": "not a cost kind ({allowed})",
        "zh-TW": "不是成本種類（{allowed}）",
        "zh-CN": "不是成本种类（{allowed}）",
    },
    "imports.reason.not_activity_type": {
        "en": "not an activity type ({allowed})",
        "zh-TW": "不是活動類型（{allowed}）",
        "zh-CN": "不是活动类型（{allowed}）",
    },
    "imports.reason.not_channel": {
        "en": "not a channel of the channel rules{allowed}",
        "zh-TW": "不是渠道規則中的渠道{allowed}",
        "zh-CN": "不是渠道规则中的渠道{allowed}",
    },
    "imports.reason.not_stage": {
        "en": "not a lifecycle stage: {value}",
        "zh-TW": "不是生命週期階段：{value}",
        "zh-CN": "不是生命周期阶段：{value}",
    },
    "imports.reason.no_lead": {
        "en": "no lead with this identity (import the leads first)",
        "zh-TW": "找不到此身分的名單（請先匯入名單）",
        "zh-CN": "找不到此身份的线索（请先导入线索）",
    },
    "imports.reason.no_deal": {
        "en": "no deal with this external id (import deals first)",
        "zh-TW": "找不到此外部編號的商機（請先匯入商機）",
        "zh-CN": "找不到此外部编号的商机（请先导入商机）",
    },
    "imports.reason.no_document": {
        "en": "no revenue document with this external id",
        "zh-TW": "找不到此外部編號的營收單據",
        "zh-CN": "找不到此外部编号的收入单据",
    },
    "imports.reason.no_team": {
        "en": "no team with this name",
        "zh-TW": "找不到此名稱的團隊",
        "zh-CN": "找不到此名称的团队",
    },
    "imports.reason.no_company": {
        "en": "no company with this name",
        "zh-TW": "找不到此名稱的公司",
        "zh-CN": "找不到此名称的公司",
    },
    "imports.reason.no_company_or_lead": {
        "en": "no company and no lead",
        "zh-TW": "沒有公司也沒有名單",
        "zh-CN": "没有公司也没有线索",
    },
    "imports.reason.one_of_required": {
        "en": "one of {columns} is required",
        "zh-TW": "{columns} 至少須填一項",
        "zh-CN": "{columns} 至少须填一项",
    },
    "imports.reason.one_identity": {
        "en": "one identity required: {columns}",
        "zh-TW": "至少需要一項身分：{columns}",
        "zh-CN": "至少需要一项身份：{columns}",
    },
    "imports.reason.extra_fields": {
        "en": "row has more fields than the header",
        "zh-TW": "此列的欄位比標題列多",
        "zh-CN": "此行的字段比标题行多",
    },
    "imports.reason.extra_fields_n": {
        "en": "row has {n} more field(s) than the header",
        "zh-TW": "此列比標題列多 {n} 個欄位",
        "zh-CN": "此行比标题行多 {n} 个字段",
    },
    "imports.reason.period_order": {
        "en": "period ends before it starts",
        "zh-TW": "期間的結束早於開始",
        "zh-CN": "期间的结束早于开始",
    },
    "imports.reason.closed_before_created": {
        "en": "closed before it was created",
        "zh-TW": "結案時間早於建立時間",
        "zh-CN": "结案时间早于创建时间",
    },
    "imports.reason.negative_amount": {
        "en": "a deal amount cannot be negative",
        "zh-TW": "商機金額不可為負數",
        "zh-CN": "商机金额不能为负数",
    },
    "imports.reason.rate_positive": {
        "en": "a rate is positive",
        "zh-TW": "匯率必須為正數",
        "zh-CN": "汇率必须为正数",
    },
    "imports.reason.scale": {
        "en": "scale is 5 or 10",
        "zh-TW": "量表須為 5 或 10",
        "zh-CN": "量表须为 5 或 10",
    },
    "imports.reason.score_range": {
        "en": "score out of range {low}-{top}",
        "zh-TW": "分數超出範圍 {low}-{top}",
        "zh-CN": "分数超出范围 {low}-{top}",
    },
    "imports.reason.same_as_row": {
        "en": "same record as row {row} of this file",
        "zh-TW": "與本檔第 {row} 列為同一筆紀錄",
        "zh-CN": "与本文件第 {row} 行为同一条记录",
    },
    "imports.reason.merge_first": {
        "en": "identities belong to different leads {ids}: merge them first",
        "zh-TW": "身分屬於不同名單 {ids}：請先合併",
        "zh-CN": "身份属于不同线索 {ids}：请先合并",
    },
    "imports.reason.two_currencies": {
        "en": "the same campaign and day is also in {currency}",
        "zh-TW": "同一活動同一天也有 {currency} 幣別的金額",
        "zh-CN": "同一活动同一天也有 {currency} 币种的金额",
    },
}
