"""Messages of the web app's review pages and its glossary / "how we work" page."""

from __future__ import annotations


def _m(en: str, tw: str, cn: str) -> dict[str, str]:
    return {"en": en, "zh-TW": tw, "zh-CN": cn}


MESSAGES: dict[str, dict[str, str]] = {
    "web.nav.reviews": _m("Reviews", "檢討會議", "复盘会议"),
    "web.nav.glossary": _m("How we work", "合作方式", "合作方式"),
    # The review list and its form
    "web.reviews.list": _m("Past and planned reviews", "過去與預定的檢討會議", "过去与计划的复盘会议"),
    "web.reviews.empty": _m(
        "No review has been recorded yet.", "尚未有任何檢討會議紀錄。", "尚未有任何复盘会议记录。"
    ),
    "web.reviews.empty_next_leader": _m(
        "Open the first one with the form above: its agenda is built from the data.",
        "用上方表單建立第一場會議：議程會依資料自動產生。",
        "用上方表单创建第一场会议：议程会根据数据自动生成。",
    ),
    "web.reviews.empty_next": _m(
        "A manager opens the weekly review; it will appear here with its agenda and action items.",
        "經理建立每週檢討會議後，會議及其議程與待辦事項會顯示在這裡。",
        "经理创建每周复盘会议后，会议及其议程与待办事项会显示在这里。",
    ),
    "web.reviews.new": _m("Open a review", "建立檢討會議", "创建复盘会议"),
    "web.reviews.new_hint": _m(
        "The agenda is generated from the data when you open the review and its numbers stay frozen.",
        "建立時會依資料自動產生議程，其中的數字會固定保存。",
        "创建时会根据数据自动生成议程，其中的数字会固定保存。",
    ),
    "web.reviews.untitled": _m("Weekly review", "每週檢討會議", "每周复盘会议"),
    "web.reviews.title_field": _m("Title", "標題", "标题"),
    "web.reviews.period_start": _m("Period from", "期間起", "期间起"),
    "web.reviews.period_end": _m("Period to", "期間迄", "期间止"),
    "web.reviews.create": _m("Open review", "建立", "创建"),
    "web.reviews.items": _m("Action items", "待辦事項數", "待办事项数"),
    "web.reviews.status.planned": _m("planned", "預定", "计划中"),
    "web.reviews.status.held": _m("held", "已召開", "已召开"),
    "web.reviews.status.closed": _m("closed", "已結案", "已结束"),
    "web.reviews.item_status.open": _m("open", "未開始", "未开始"),
    "web.reviews.item_status.in_progress": _m("in progress", "進行中", "进行中"),
    "web.reviews.item_status.done": _m("done", "已完成", "已完成"),
    "web.reviews.item_status.dropped": _m("dropped", "已取消", "已取消"),
    # One review
    "web.reviews.facts": _m("About this review", "會議資訊", "会议信息"),
    "web.reviews.agenda": _m("Agenda", "議程", "议程"),
    "web.reviews.agenda_hint": _m(
        "Generated from the data at the moment shown above; later imports do not change it.",
        "依上方時間點的資料產生；之後匯入的資料不會改變它。",
        "根据上方时间点的数据生成；之后导入的数据不会改变它。",
    ),
    "web.reviews.action_items": _m("Action items", "待辦事項", "待办事项"),
    "web.reviews.no_items": _m("No action items yet.", "尚無待辦事項。", "尚无待办事项。"),
    "web.reviews.before_after_hint": _m(
        "Before: the metric over this review's period. Now: the same metric over the next review's period.",
        "之前：本次會議期間的指標值。目前：下一次會議期間的同一指標值。",
        "之前：本次会议期间的指标值。目前：下一次会议期间的同一指标值。",
    ),
    "web.reviews.add_item": _m("Add an action item", "新增待辦事項", "新增待办事项"),
    "web.reviews.add": _m("Add", "新增", "添加"),
    "web.reviews.from_stage": _m("From stage", "起始階段", "起始阶段"),
    "web.reviews.to_stage": _m("To stage", "目標階段", "目标阶段"),
    "web.reviews.dimension": _m("Segment by", "區隔維度", "细分维度"),
    "web.reviews.value": _m("Segment value", "區隔值", "细分值"),
    "web.reviews.done.created": _m("Review opened.", "已建立檢討會議。", "已创建复盘会议。"),
    "web.reviews.done.updated": _m("Review saved.", "已儲存檢討會議。", "已保存复盘会议。"),
    "web.reviews.done.item_added": _m("Action item added.", "已新增待辦事項。", "已添加待办事项。"),
    "web.reviews.done.item_updated": _m("Action item saved.", "已儲存待辦事項。", "已保存待办事项。"),
    "web.reviews.error.date": _m(
        "Enter a date as YYYY-MM-DD.", "請以 YYYY-MM-DD 格式輸入日期。", "请以 YYYY-MM-DD 格式输入日期。"
    ),
    "web.reviews.error.user": _m(
        "Choose a person from the list.", "請從清單中選擇人員。", "请从列表中选择人员。"
    ),
    "web.reviews.error.title": _m(
        "Give the action item a title.", "請輸入待辦事項標題。", "请输入待办事项标题。"
    ),
    "web.reviews.error.dimension": _m(
        "Choose a segment from the list.", "請從清單中選擇區隔。", "请从列表中选择细分。"
    ),
    # The glossary / "how we work" page
    "web.glossary.sla_print": _m(
        "The SLA agreement on one page (to print)", "一頁式 SLA 協議（可列印）", "一页式 SLA 协议（可打印）"
    ),
    "web.glossary.sla_pdf": _m("as PDF", "PDF 版", "PDF 版"),
    "web.glossary.contents": _m("On this page", "本頁內容", "本页内容"),
    # Report packs by email (on the reviews page)
    "web.reviews.subscriptions": _m("Report packs by email", "以電子郵件寄送報告", "通过电子邮件发送报告"),
    "web.reviews.subscriptions_hint": _m(
        "The pack arrives as a PDF after each week or month, in the language you choose.",
        "每週或每月結束後，以您選擇的語言寄出 PDF 報告。",
        "每周或每月结束后，以您选择的语言发送 PDF 报告。",
    ),
    "web.reviews.report": _m("Report", "報告", "报告"),
    "web.reviews.schedule": _m("Sent", "寄送頻率", "发送频率"),
    "web.reviews.schedule.weekly": _m("every Monday", "每週一", "每周一"),
    "web.reviews.schedule.monthly": _m("on the 1st of each month", "每月 1 日", "每月 1 日"),
    "web.reviews.schedule.default": _m("with the report's period", "依報告期間", "按报告期间"),
    "web.reviews.recipient": _m("To", "收件者", "收件人"),
    "web.reviews.me": _m("me", "我", "我"),
    "web.reviews.subscribe": _m("Subscribe", "訂閱", "订阅"),
    "web.reviews.unsubscribe": _m("Unsubscribe", "取消訂閱", "取消订阅"),
    "web.reviews.done.subscribed": _m("Subscribed.", "已訂閱。", "已订阅。"),
    "web.reviews.done.unsubscribed": _m("Unsubscribed.", "已取消訂閱。", "已取消订阅。"),
}
