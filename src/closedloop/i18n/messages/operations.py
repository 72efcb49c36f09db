"""Messages of the production side: the Spark engine, the metrics endpoint and `serve --workers`."""

from __future__ import annotations


def _m(en: str, tw: str, cn: str) -> dict[str, str]:
    return {"en": en, "zh-TW": tw, "zh-CN": cn}


MESSAGES: dict[str, dict[str, str]] = {
    "operations.spark.needs_source": _m(
        "--engine spark reads a Parquet export: give its directory with --source DIR"
        " (write one with `closedloop export parquet DIR`).",
        "--engine spark 讀取 Parquet 匯出檔：請以 --source DIR 指定目錄（可用 `closedloop export parquet DIR` 產生）。",
        "--engine spark 读取 Parquet 导出文件：请用 --source DIR 指定目录（可用 `closedloop export parquet DIR` 生成）。",
    ),
    "operations.spark.source_needs_spark": _m(
        "--source is only read by --engine spark.",
        "只有 --engine spark 會讀取 --source。",
        "只有 --engine spark 会读取 --source。",
    ),
    "operations.spark.missing_pyspark": _m(
        "--engine spark needs PySpark and Java 17: pip install 'pyspark<4.1'.",
        "--engine spark 需要 PySpark 與 Java 17：pip install 'pyspark<4.1'。",
        "--engine spark 需要 PySpark 和 Java 17：pip install 'pyspark<4.1'。",
    ),
    "operations.metrics.forbidden": _m(
        "The metrics endpoint needs an admin API key or the scrape token.",
        "指標端點需要管理員 API 金鑰或抓取權杖。",
        "指标端点需要管理员 API 密钥或抓取令牌。",
    ),
    "operations.serve.workers_need_postgres": _m(
        "Several server processes need PostgreSQL (SQLite allows one writer): set CLOSEDLOOP_DATABASE_URL"
        " to a postgresql:// URL or use --workers 1.",
        "多個伺服器行程需要 PostgreSQL（SQLite 只允許一個寫入者）：請將 CLOSEDLOOP_DATABASE_URL 設為 postgresql:// 網址，或使用 --workers 1。",
        "多个服务器进程需要 PostgreSQL（SQLite 只允许一个写入者）：请将 CLOSEDLOOP_DATABASE_URL 设为 postgresql:// 地址，或使用 --workers 1。",
    ),
}
