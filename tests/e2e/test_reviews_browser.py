"""The weekly review in a real browser (Debian's chromium): a manager opens a review and adds an action item."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from tests.e2e.conftest import ARTIFACTS, LiveServer, start_server, stop_server

from closedloop.db import unit_of_work
from closedloop.users import service as users
from closedloop.users.actor import system_actor

PASSWORD = "review-browser-pass-2026"


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[LiveServer]:
    from closedloop.store import session_factory_for

    with unit_of_work(session_factory_for(server_env["CLOSEDLOOP_DATABASE_URL"])) as session:
        for email, role, name in (
            ("mei@corp.example", "manager", "Mei"),
            ("wei@corp.example", "sales", "Wei"),
        ):
            users.create_user(session=session, actor=system_actor("cli"), email=email, role=role,
                              password=PASSWORD, name=name)  # fmt: skip
    live = start_server(server_env, "serve")
    yield live
    stop_server(live)


def test_manager_opens_a_review_and_adds_an_action_item(page, server) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", "mei@corp.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    page.click("header nav a[href='/reviews']")
    page.wait_for_url(re.compile(r".*/reviews$"))

    form = page.locator("#new-review")
    form.locator("input[name=title]").fill("Week 11 review")
    form.locator("input[name=period_start]").fill("2026-03-09")
    form.locator("input[name=period_end]").fill("2026-03-15")
    form.locator("select[name=attendees]").select_option(label=["Mei", "Wei"])
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/reviews/\d+\?done=created$"))
    assert page.locator("h1").inner_text() == "Week 11 review"
    assert page.locator("#attendees").inner_text() == "Mei, Wei"
    assert page.locator("#table-sla").count() == 1  # the generated agenda's SLA lines

    item = page.locator("#add-item")
    item.locator("input[name=title]").fill("Call back every Ads MQL within 4 hours")
    item.locator("select[name=owner_id]").select_option(label="Wei")
    item.locator("input[name=due_date]").fill("2026-03-20")
    item.locator("select[name=metric]").select_option("stage_count")
    item.locator("select[name=from_stage]").select_option("sql")
    item.locator("select[name=dimension]").select_option("channel")
    item.locator("input[name=value]").fill("Ads")
    item.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=item_added.*"))
    row = page.locator("#table-items tbody tr")
    assert row.count() == 1
    text = row.inner_text()
    assert "Call back every Ads MQL within 4 hours" in text and "Wei" in text and "2026-03-20" in text
    assert "channel=Ads" in text

    row.locator("select[name=status]").select_option("done")
    row.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=item_updated.*"))
    assert page.locator("#table-items tbody tr select[name=status]").input_value() == "done"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)
    assert page.console_errors == []
