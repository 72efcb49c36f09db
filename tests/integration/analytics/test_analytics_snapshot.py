"""The analytics snapshot: never a stale answer, and no request waits for a copy."""

from __future__ import annotations

from closedloop.analytics import api, snapshot

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}


def leads(store) -> int:
    return api.metrics(store.url, ["stage_count"], from_stage="lead", **PERIOD)["results"][0]["value"]


def test_every_answer_is_fresh_and_the_copy_happens_aside(store, data) -> None:
    data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00")])
    data.session.commit()
    assert leads(store) == 1  # first query: read live, a copy starts in the background
    snapshot.wait(store.url)
    assert leads(store) == 1
    data.lead("2026-01-06 00:00", [("lead", "2026-01-06 00:00")])
    data.session.commit()
    assert leads(store) == 2  # right after a write: live, never the old snapshot
    for _ in range(3):  # (opening a WAL file may move SQLite's data_version once more: one more copy)
        snapshot.wait(store.url)
        assert leads(store) == 2
    if store.kind == "sqlite":  # (PostgreSQL's WAL position also moves with other databases' writes)
        assert snapshot.schema(store.url) != snapshot.LIVE


def test_a_write_racing_the_copy_is_not_missed(store, data, monkeypatch) -> None:
    data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00")])
    data.session.commit()
    copy = snapshot._copy

    written = []

    def copy_then_write(connection, generation):
        name = copy(connection, generation)
        if not written:  # once: lands after the token was read
            written.append(data.lead("2026-01-07 00:00", [("lead", "2026-01-07 00:00")]))
            data.session.commit()
        return name

    monkeypatch.setattr(snapshot, "_copy", copy_then_write)
    for _ in range(2):  # PostgreSQL copies in the background at once, SQLite in the next quiet query
        leads(store)
        snapshot.wait(store.url)
    monkeypatch.setattr(snapshot, "_copy", copy)
    assert written
    assert leads(store) == 2  # the finished copy predates the write: its token no longer matches
    snapshot.rebuild(store.url)
    assert leads(store) == 2


def test_reach_table_answers_as_the_events_do(store, data, monkeypatch) -> None:
    """Once the snapshot holds every event up to as-of, reaches come from its reach table, unchanged."""
    from closedloop.analytics import engine

    a = data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00"), ("mql", "2026-01-09 00:00"),
                                       ("sql", "2026-01-20 00:00", True)], first_channel="Email")  # fmt: skip
    b = data.lead("2026-02-05 00:00", [("lead", "2026-02-05 00:00"), ("customer", "2026-03-01 00:00")])
    wrong = data.event(b, "mql", "2026-02-06 00:00")
    data.event(b, "lead", "2026-02-07 00:00", voids=wrong)
    data.lead("2026-03-05 00:00", [("lead", "2026-03-05 00:00"), ("mql", "2026-07-01 00:00")])  # after as-of
    data.session.commit()
    assert a
    asked = []
    original = engine.rows
    monkeypatch.setattr(
        engine, "rows", lambda url, sql, params=None: asked.append(sql) or original(url, sql, params)
    )

    def answers() -> list:
        funnel = api.funnel(store.url, by=["channel"], mode="period", **PERIOD)
        now = api.funnel(
            store.url, by=["channel"], date_from="2026-01-01", date_to="2026-12-31", as_of="2027-01-01"
        )
        velocity = api.metrics(store.url, ["velocity"], from_stage="lead", to_stage="mql", as_of="2027-01-01",
                               date_from="2026-01-01", date_to="2026-12-31")  # fmt: skip
        return [funnel, now, velocity]

    live = answers()
    snapshot.rebuild(store.url)
    asked.clear()
    kept = answers()
    assert kept == live
    used = [("reach_full" in sql) for sql in asked if "reach" in sql]
    if store.kind == "sqlite":  # (PostgreSQL's WAL position also moves with other databases' writes)
        assert used == [False, True, True]  # as-of 2027 reads the table; June 2026 predates the last event


def test_journeys_are_kept_per_snapshot(store, data) -> None:
    """Switching attribution models reuses one snapshot's journeys; a write gives fresh ones."""
    from closedloop.attribution.journeys import build_journeys

    data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00")])
    data.session.commit()
    snapshot.rebuild(store.url)
    for _ in range(3):  # (opening a WAL file may move SQLite's data_version once more: one more copy)
        first = build_journeys(store.url, conversion="lead")
        snapshot.wait(store.url)
    if store.kind == "sqlite":  # (PostgreSQL's WAL position also moves with other databases' writes)
        assert build_journeys(store.url, conversion="lead") is first
        latest = snapshot.current(store.url)[1]
        assert build_journeys(store.url, conversion="lead", as_of=latest.replace(year=2030)) is first
    data.lead("2026-01-06 00:00", [("lead", "2026-01-06 00:00")])
    data.session.commit()
    assert build_journeys(store.url, conversion="lead").conversions.sum() == 2
