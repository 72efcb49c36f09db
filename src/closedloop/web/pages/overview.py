"""The overview: the shared scorecard both teams open every morning."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from closedloop.users.models import Team
from closedloop.web import charts
from closedloop.web.pages import numbers
from closedloop.web.pages.common import PageDep, PageRoute, period, render
from closedloop.web.pages.tables import Table, csv_response

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STAGES = ("lead", "mql", "sal", "sql", "opportunity", "customer")
TREND = ("lead", "mql", "sql", "customer")
CARDS = ("win_rate", "avg_deal_size", "sales_cycle", "sla_compliance", "response_time", "pipeline_created")
From = Annotated[str | None, Query(alias="from", max_length=10)]
To = Annotated[str | None, Query(alias="to", max_length=10)]
TeamQ = Annotated[str | None, Query(max_length=200)]


def team_names(page: Any) -> list[str]:
    """Teams to pick from."""
    return list(page.request.state.db.scalars(select(Team.name).order_by(Team.name)))


def filters(page: Any, team: str | None) -> tuple[list[str], str | None]:
    """The `where` list for a team filter (an unknown team is ignored)."""
    names = team_names(page)
    chosen = team if team in names else None
    return ([f"team={chosen}"] if chosen else []), chosen


def value_text(page: Any, result: dict[str, Any]) -> str:
    """A metric value formatted for its unit."""
    value, unit = result.get("value"), result.get("unit")
    if unit == "ratio":
        return page.pct(value)
    if unit == "money":
        return page.money(value, result.get("currency"))
    if unit in ("days", "hours", "months"):
        return page.t(f"web.unit.{unit}", value=page.num(value, 1)) if value is not None else "—"
    return page.num(value)


@router.get("/")
def overview(page: PageDep, date_from: From = None, date_to: To = None, team: TeamQ = None) -> Response:
    """Goals vs actual, the waterfall with conversion and velocity, weekly trends, SLA, win rate, deal size."""
    page.require("leads", "summary")
    ws = numbers.workspace(page.url)
    today = datetime.now(ZoneInfo(ws.time_zone)).date()
    start, end = period(date_from, date_to, today)
    where, chosen = filters(page, team)
    scope, _ = page.scope()
    common = {"date_from": start, "date_to": end, "where": where, "scope": scope}  # fmt: skip
    pairs = list(pairwise(STAGES))
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "funnel": ("funnel", {"stages": ",".join(STAGES), **common}),
        "cards": ("metrics", {"names": list(CARDS), **common}),
        "weekly": ("funnel", {"stages": ",".join(TREND), "mode": "period", "by": ["cohort_week"], **common}),
    }
    for a, b in pairs:
        calls[f"v:{a}"] = ("metrics", {"names": ["velocity"], "from_stage": a, "to_stage": b, **common})
    calls["why"] = ("root_cause", {"from_stage": "mql", "to_stage": "sql", "pairs": False, **common})
    # Leads or follow-up: the MQL->SQL change against the previous period of the same length, split
    # into channel mix (which leads came) and rate within each channel (how they were followed up).
    length = end - start + timedelta(days=1)
    previous = (start - length, start - timedelta(days=1))
    calls["mix"] = ("mix_vs_rate", {"dimension": "channel", "before": (previous[0].isoformat(), previous[1].isoformat()),
                    "after": (start.isoformat(), end.isoformat()), "where": where, "scope": scope})  # fmt: skip
    if not chosen:
        calls["goals"] = ("metrics", {"names": ["goal_attainment"], **common})
    got = numbers.ask(page.url, calls)
    funnel = got["funnel"]["rows"]
    counts = funnel[0]["counts"] if funnel else {}
    rates = funnel[0]["rates"] if funnel else {}
    velocity = {(a, b): (got[f"v:{a}"]["results"] or [None])[0] for a, b in pairs}
    cards = got["cards"]["results"]
    goals = got["goals"]["results"] if "goals" in got else []
    weekly = got["weekly"]["rows"]
    findings = [f["sentences"][page.lang] for f in got["why"]["findings"][:3]]

    steps = Table("funnel", page.t("web.overview.funnel"),
                  [page.t("web.col.stage"), page.t("web.col.leads"), page.t("web.col.conversion"),
                   page.t("web.col.interval"), page.t("web.col.velocity")], numeric={1, 2, 3, 4})  # fmt: skip
    chart_rows = []
    for i, stage in enumerate(STAGES):
        rate = rates.get(f"{STAGES[i - 1]}->{stage}") if i else None
        vel = velocity.get((STAGES[i - 1], stage)) if i else None
        median = (vel or {}).get("value")
        interval = (
            "" if not rate or rate["low"] is None else f"{page.pct(rate['low'])} – {page.pct(rate['high'])}"
        )
        steps.add(
            [page.stage(stage), page.num(counts.get(stage)), page.pct(rate["value"]) if rate else "",
             interval, page.t("web.unit.days", value=page.num(median, 1)) if median is not None else ""],
            [stage, counts.get(stage), rate["value"] if rate else None, rate["low"] if rate else None,
             rate["high"] if rate else None, median],
        )  # fmt: skip
        chart_rows.append({"label": page.stage(stage), "count": counts.get(stage, 0),
                           "rate_text": page.pct(rate["value"]) if rate else ""})  # fmt: skip
    steps_csv_header = [page.t("web.col.stage"), page.t("web.col.leads"), page.t("web.col.conversion"),
                        page.t("web.col.low"), page.t("web.col.high"), page.t("web.col.velocity")]  # fmt: skip

    trend = Table("trend", page.t("web.overview.trend"),
                  [page.t("web.col.week"), *(page.stage(s) for s in TREND)], numeric={1, 2, 3, 4})  # fmt: skip
    trend_points = []
    for row in sorted(weekly, key=lambda r: str(r["group"].get("cohort_week"))):
        week = str(row["group"].get("cohort_week"))
        values = [row["counts"].get(s, 0) for s in TREND]
        trend.add([week, *(page.num(v) for v in values)], [week, *values])
        trend_points += [
            {"week": week, "series": page.stage(s), "count": v} for s, v in zip(TREND, values, strict=True)
        ]

    goal_table = Table("goals", page.t("web.overview.goals"),
                       [page.t("web.col.goal"), page.t("web.col.actual"), page.t("web.col.target"),
                        page.t("web.col.attainment"), page.t("web.col.forecast")], numeric={1, 2, 3, 4}, data={0})  # fmt: skip
    for g in goals:
        figures = g.get("figures") or {}
        ratio = figures.get("metric") in ("win_rate", "sla_compliance", "conversion")
        show = page.pct if ratio else page.num
        goal_table.add(
            [g["group"].get("goal", ""), show(g["numerator"]), show(g["denominator"]), page.pct(g["value"]),
             page.pct(figures.get("forecast_attainment"))],
            [g["group"].get("goal", ""), g["numerator"], g["denominator"], g["value"], figures.get("forecast_attainment")],
        )  # fmt: skip

    mix, mix_rows, mix_sentence = leads_or_follow_up(page, got["mix"], previous)
    steps_for_csv = Table("funnel", steps.caption, steps_csv_header, raw=steps.raw)
    csv = csv_response(page, [steps_for_csv, trend, goal_table, mix])
    if csv is not None:
        return csv
    specs = {
        "funnel": numbers.chart(charts.funnel, chart_rows, title=page.t("web.overview.funnel"), stage_label=page.t("web.col.stage"),
                                count_label=page.t("web.col.leads")),
        "trend": numbers.chart(charts.trend, trend_points, title=page.t("web.overview.trend"), x_label=page.t("web.col.week"),
                              y_label=page.t("web.col.leads"), series_label=page.t("web.col.stage")),
    }  # fmt: skip
    if mix_rows:
        specs["mix"] = numbers.chart(charts.grouped_bars, mix_rows, title=page.t("web.mix.title"),
                                     key_label=page.t("web.col.channel"), value_label=page.t("web.mix.points"),
                                     group_label=page.t("web.mix.part"))  # fmt: skip
    card_list = [(page.t(f"web.metric.{r['metric']}"), value_text(page, r), r) for r in cards]
    return render(page, "overview.html", start=start, end=end, teams=team_names(page), team=chosen,
                  cards=card_list, steps=steps, trend=trend, goals=goal_table, specs=specs,
                  empty=not counts.get("lead"), findings=findings, mix=mix, mix_sentence=mix_sentence)  # fmt: skip


MIX_BARS = 8  # the channels that moved the rate most; the table lists them all


def signed_points(page: Any, value: float) -> str:
    """A rate change in percentage points with its sign ("+1.2", "−0.4")."""
    text = page.num(abs(value) * 100, 1)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def leads_or_follow_up(
    page: Any, found: dict[str, Any], previous: tuple[Any, Any]
) -> tuple[Table, list[dict[str, Any]], str | None]:
    """The mix-versus-rate split as one sentence, chart rows (points per channel and part) and a table."""
    table = Table("mix", page.t("web.mix.title"),
                  [page.t("web.col.channel"), page.t("web.mix.share_before"), page.t("web.mix.share_after"),
                   page.t("web.mix.rate_before"), page.t("web.mix.rate_after"), page.t("web.mix.leads_part"),
                   page.t("web.mix.follow_part")], numeric={1, 2, 3, 4, 5, 6}, data={0})  # fmt: skip
    segments = found.get("segments") or []
    for seg in segments:
        table.add([seg["segment"] or page.t("web.mix.none"), page.pct(seg["share_before"]), page.pct(seg["share_after"]),
                   page.pct(seg["rate_before"]), page.pct(seg["rate_after"]), signed_points(page, seg["mix"]),
                   signed_points(page, seg["rate"])],
                  [seg["segment"], seg["share_before"], seg["share_after"], seg["rate_before"], seg["rate_after"],
                   seg["mix"], seg["rate"]])  # fmt: skip
    if (
        not segments
        or not any(s["share_before"] for s in segments)
        or not any(s["share_after"] for s in segments)
    ):
        return table, [], None
    sentence = page.t("web.mix.sentence", before=page.pct(found["rate_before"]), after=page.pct(found["rate_after"]),
                      change=signed_points(page, found["change"]), leads=signed_points(page, found["mix"]),
                      follow=signed_points(page, found["rate"]), start=page.day(previous[0]), end=page.day(previous[1]))  # fmt: skip
    rows = []
    for seg in segments[:MIX_BARS]:
        label = seg["segment"] or page.t("web.mix.none")
        rows.append(
            {"key": label, "group": page.t("web.mix.leads_part"), "value": round(seg["mix"] * 100, 2)}
        )
        rows.append(
            {"key": label, "group": page.t("web.mix.follow_part"), "value": round(seg["rate"] * 100, 2)}
        )
    return table, rows, sentence
