"""Topic texts in three languages, and each channel's payload shape, without a network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop.i18n import LANGUAGES, MESSAGES
from closedloop.notifications.channels import slack, teams, wecom
from closedloop.notifications.render import TOPICS, canonical_topic, format_money, render

FACTS = {
    "lead_name": "王小明",
    "owner_name": "Amy Lin",
    "due_at": datetime(2026, 11, 23, 2, 30, tzinfo=UTC),
    "time_zone": "Asia/Taipei",
    "sla_kind": "accept",
    "minutes_left": 15,
    "reason": "no_budget",
    "deal_name": "ACME renewal",
    "amount_minor": 1234500,
    "currency": "TWD",
    "goal_name": "Q4 SQLs",
    "progress": "41",
    "target": "120",
    "run_rate": "96",
    "report_kind": "monthly",
    "period": "2026-11",
}


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_topic_renders_in_every_language(topic, lang):
    notice = render(topic, FACTS, lang)
    assert notice.language == lang
    for text in (notice.title, notice.body, *(v for _, v in notice.facts)):
        assert text and "{" not in text and "}" not in text
    assert MESSAGES[f"notifications.{topic}.title"][lang]


def test_texts_worked_by_hand():
    assert render("sla_about_to_breach", FACTS, "en").body == (
        "The acceptance deadline for 王小明 (Amy Lin) is 2026-11-23 10:30 (Asia/Taipei): 15 minutes left."
    )
    assert render("lead_rejected", FACTS, "zh-TW").body == "Amy Lin 退回了 王小明。原因:無預算。"
    assert render("deal_won", FACTS, "zh-CN").body == "Amy Lin 赢得 ACME renewal,金额 TWD 12,345.00。"
    assert render("report_ready", FACTS, "zh-TW").title == "報告已完成:每月閉環報告"
    # Missing facts read as "unknown"/"unassigned", never as a crash or a raw placeholder.
    assert render("mql_assigned", {"lead_id": 7}, "en").body == (
        "Lead #7 was handed off to unassigned. First response is due by (unknown)."
    )


def test_money_uses_the_currency_minor_units():
    assert format_money(1234500, "TWD") == "TWD 12,345.00"
    assert format_money(1234500, "JPY") == "JPY 1,234,500"
    assert format_money(1234500, "KWD") == "KWD 1,234.500"


def test_event_names_map_to_topics():
    assert canonical_topic("handoff.assigned") == "mql_assigned"
    assert canonical_topic("handoff.rejected") == "lead_rejected"
    assert canonical_topic("sla.breached") == "sla_breached"
    assert canonical_topic("deal.won") == "deal_won"
    assert canonical_topic("lead.created") is None


def test_notification_messages_complete():
    for key, entry in MESSAGES.items():
        if key.startswith("notifications."):
            assert all(entry.get(lang) for lang in LANGUAGES), key


def test_slack_escapes_mentions_in_names():
    notice = render("mql_assigned", {**FACTS, "lead_name": "<!channel> & co"}, "en")
    payload = slack.payload(notice)
    # Every mrkdwn text (parsed for mentions) is escaped; the plain_text header is shown literally.
    mrkdwn = [payload["text"], payload["blocks"][1]["text"]["text"]]
    mrkdwn += [f["text"] for f in payload["blocks"][2]["fields"]]
    assert not any("<!channel>" in t for t in mrkdwn)
    assert payload["blocks"][1]["text"]["text"].startswith("&lt;!channel&gt; &amp; co was handed off")
    assert payload["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "New MQL assigned: <!channel> & co",
        "emoji": True,
    }


def test_teams_card_has_link_action_when_given():
    notice = render("deal_won", {**FACTS, "link": "https://crm.example.com/deals/9"}, "zh-TW")
    card = teams.payload(notice)["attachments"][0]["content"]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "在 closedloop 開啟", "url": "https://crm.example.com/deals/9"}
    ]


@given(st.text(min_size=1, max_size=3000))
def test_wecom_markdown_fits_4096_bytes_and_stays_valid_utf8(name):
    notice = render("mql_assigned", {**FACTS, "lead_name": name}, "zh-CN")
    content = wecom.payload(notice)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    content.encode("utf-8").decode("utf-8")


def test_audience_named_by_the_producer_wins():
    from closedloop.notifications.facts import audience

    assert audience({"owner_id": 3, "team_id": "7", "user_ids": [9, "10"]}) == ({9, 10}, {7})
    assert audience({"owner_id": 3, "manager_id": 4, "team_id": None}) == ({3, 4}, set())
    assert audience({"report_kind": "weekly"}) == (set(), set())
