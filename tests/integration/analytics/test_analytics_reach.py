"""The SQL `reach` relation agrees with `closedloop.leads.lifecycle.reaches` on random event sets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from closedloop.analytics import api, engine
from closedloop.analytics import relations as rel
from closedloop.leads.lifecycle import EventView, Stage, reaches

ALL_STAGES = [s.value for s in Stage]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def test_reach_matches_lifecycle_reaches_on_random_events(store, data) -> None:
    rng = random.Random(7)
    as_of = BASE + timedelta(days=40)
    expected: dict[int, list[dict]] = {}
    for _ in range(60):
        lead_id = data.lead("2026-01-01 00:00")
        events = []
        for _ in range(rng.randint(1, 6)):
            # Few distinct days so that ties between real and implied events happen often.
            when = BASE + timedelta(days=rng.choice([1, 2, 2, 3, 10, 45]))
            stage = rng.choice(ALL_STAGES)
            implied = rng.random() < 0.3
            voids = rng.choice(events)["id"] if events and rng.random() < 0.25 else None
            if voids is not None and any(e["voids"] == voids for e in events):
                voids = None
            event_id = data.event(
                lead_id, stage, when.strftime("%Y-%m-%d %H:%M"), implied=implied, voids=voids
            )
            events.append({"id": event_id, "stage": stage, "at": when, "implied": implied, "voids": voids})
        expected[lead_id] = events
    data.session.commit()

    sl = api.slice_for(store.url, as_of=as_of)
    q = rel.Sql()
    sql = rel.with_clause(rel.reach_ctes(q, sl)) + "SELECT * FROM reach"
    got = {row["lead_id"]: row for row in engine.rows(store.url, sql, q.params)}

    for lead_id, events in expected.items():
        known = [e for e in events if e["at"] <= as_of]
        voided = {e["voids"] for e in known if e["voids"] is not None}
        views = [EventView(e["stage"], e["at"], e["implied"], e["id"] in voided) for e in known]
        want = reaches(views)
        row = got.get(lead_id)
        for stage in rel.STAGES:
            reach = want.get(Stage(stage))
            if reach is None:
                assert row is None or row[f"at_{stage}"] is None, (lead_id, stage)
                continue
            assert row is not None, lead_id
            assert row[f"at_{stage}"] == reach.at.replace(tzinfo=None), (lead_id, stage)
            assert row[f"real_{stage}"] is (not reach.implied), (lead_id, stage)
