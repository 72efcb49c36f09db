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
}
