"""The weekly review on a hand-built history: agenda movements, overdue items, before/after.

Week 1 (2026-03-02..08) and week 2 (03-09..15), period mode, counted by hand:
  leads created  w1: L1 L2 L3 L4 = 4        w2: L5 L6 = 2          score |2-4|/4 = 0.5
  MQL reached    w1: L1 L2 = 2              w2: L4, L5 and L7 (implied) = 3   1/3
  SQL reached    w1: L1 = 1                 w2: L4 L5 L7 = 3       2/3
  win rate       w1: 1 won / 2 closed = .5  w2: 2/2 = 1            0.5
  pipeline       w1: 1000 + 500 = 1500      w2: 1000 + 3000 = 4000 2500/4000 = 0.625
  avg deal size  w1: 1000                   w2: 2000               0.5
  SLA compliance and rejection rate: no hand-offs in w1 (null), so no movement.
Top five: SQL, pipeline, then the three ties at 0.5 in declaration order; MQL is left out.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from closedloop.reviews import service
from closedloop.reviews.models import ActionItem
from closedloop.users.actor import Actor

W1 = (date(2026, 3, 2), date(2026, 3, 8))
W2 = (date(2026, 3, 9), date(2026, 3, 15))
AS_OF_1 = datetime.fromisoformat("2026-03-09T12:00:00+08:00")
AS_OF_2 = datetime.fromisoformat("2026-03-16T12:00:00+08:00")


def test_agenda_movements_overdue_and_before_after(history) -> None:
    store, session = history["store"], history["session"]
    manager = Actor(user_id=history["manager"], role="manager")
    first = service.create_review(session=session, url=store.url, actor=manager, title="Week 10",
                                  period_start=W1[0], period_end=W1[1], attendees=[history["manager"]],
                                  as_of=AS_OF_1)  # fmt: skip
    email_mqls = service.add_action_item(
        session=session, url=store.url, actor=manager, review_id=first.id, title="More Email MQLs",
        owner_id=history["ae"], due_date=date(2026, 3, 20), metric="stage_count", from_stage="mql",
        segment={"channel": "Email"},
    )  # fmt: skip
    win = service.add_action_item(session=session, url=store.url, actor=manager, review_id=first.id,
                                  title="Win more", owner_id=None, due_date=date(2026, 3, 10),
                                  metric="win_rate")  # fmt: skip
    dropped = service.add_action_item(session=session, url=store.url, actor=manager, review_id=first.id,
                                      title="Old idea", owner_id=None, due_date=date(2026, 3, 1),
                                      metric="win_rate")  # fmt: skip
    service.update_action_item(
        session=session, actor=manager, item_id=dropped.id, values={"status": "dropped"}
    )
    session.commit()
    # Baselines over week 1: Email MQLs L1, L2; win rate 1/2.
    assert (email_mqls.baseline_value, win.baseline_value) == (2.0, 0.5)

    second = service.create_review(session=session, url=store.url, actor=manager, title="Week 11",
                                   period_start=W2[0], period_end=W2[1], as_of=AS_OF_2)  # fmt: skip
    session.commit()
    agenda = second.agenda
    assert agenda["previous"] == ["2026-03-02", "2026-03-08"]  # the last review's period
    got = [(m["key"], m["before"], m["after"], round(m["score"], 4)) for m in agenda["movements"]]
    assert got == [
        ("stage_count:sql", 1, 3, round(2 / 3, 4)),
        ("pipeline_created", 1500.0, 4000.0, 0.625),
        ("stage_count:lead", 4, 2, 0.5),
        ("win_rate", 0.5, 1.0, 0.5),
        ("avg_deal_size", 1000.0, 2000.0, 0.5),
    ]
    # Overdue at 2026-03-16: "Win more" (due 03-10, open); the dropped one is not open.
    assert [i["title"] for i in agenda["overdue"]] == ["Win more"]
    # After, over week 2: Email MQLs only L4 (L5 and L7 are Ads); win rate 2/2.
    session.expire_all()
    after = {
        i.title: (i.baseline_value, i.current_value, i.current_review_id) for i in session.query(ActionItem)
    }
    assert after == {
        "More Email MQLs": (2.0, 1.0, second.id),
        "Win more": (0.5, 1.0, second.id),
        "Old idea": (0.5, None, None),
    }
    changes = {i["title"]: i["change"] for i in agenda["followed_up"]}
    assert changes == {"More Email MQLs": -1.0, "Win more": 0.5}
    sides = {line["side"] for line in agenda["sla"]["lines"]}
    assert sides == {"marketing", "sales"}


def test_first_review_compares_with_the_week_before(history) -> None:
    store, session = history["store"], history["session"]
    manager = Actor(user_id=history["manager"], role="manager")
    review = service.create_review(session=session, url=store.url, actor=manager, title="Week 11",
                                   period_start=W2[0], period_end=W2[1], as_of=AS_OF_2)  # fmt: skip
    assert review.agenda["previous"] == ["2026-03-02", "2026-03-08"]


def test_review_period_and_users_are_checked(history) -> None:
    from closedloop.errors import ValidationFailed

    store, session = history["store"], history["session"]
    manager = Actor(user_id=history["manager"], role="manager")
    with pytest.raises(ValidationFailed):
        service.create_review(session=session, url=store.url, actor=manager, title="x", period_start=W2[1],
                              period_end=W2[0], as_of=AS_OF_2)  # fmt: skip
    with pytest.raises(ValidationFailed):
        service.create_review(session=session, url=store.url, actor=manager, title="x", period_start=W2[0],
                              period_end=W2[1], attendees=[999_999], as_of=AS_OF_2)  # fmt: skip
