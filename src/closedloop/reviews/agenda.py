"""The review agenda, generated from the data: what moved, who broke which promise, what is overdue."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.analytics import api
from closedloop.handoffs.ledger import sla_ledger
from closedloop.reviews.models import ActionItem

FUNNEL_STAGES = ("lead", "mql", "sql", "opportunity", "customer")
RATE_METRICS = ("win_rate", "sla_compliance", "rejection_rate", "pipeline_created", "avg_deal_size")
TOP_MOVEMENTS = 5
OPEN_STATUSES = ("open", "in_progress")
ROOT_CAUSE_WEEKS = 12  # conversion cohorts need a few months of leads to say anything
FOLLOW_UP_DAYS = 14  # MQL->SQL within two weeks: a cohort matures two weeks after its last MQL
FOLLOW_UP_BLOCK = 28  # two four-week blocks of mature MQL cohorts are compared


def period_figures(
    url: str, *, date_from: date, date_to: date, as_of: datetime, scope: Any = None
) -> dict[str, Any]:
    """The headline figures of one period: stage counts (period mode) and the deal and SLA metrics."""
    slicing = {"date_from": date_from, "date_to": date_to, "as_of": as_of, "scope": scope}
    funnel = api.funnel(url, stages=",".join(FUNNEL_STAGES), mode="period", **slicing)
    counts = funnel["rows"][0]["counts"] if funnel["rows"] else {}
    figures: dict[str, Any] = {
        f"stage_count:{s}": {"metric": "stage_count", "stage": s, "value": counts.get(s, 0), "unit": "count"}
        for s in FUNNEL_STAGES
    }
    for result in api.metrics(url, list(RATE_METRICS), **slicing)["results"]:
        figures[result["metric"]] = {
            "metric": result["metric"], "stage": None, "value": result["value"], "unit": result["unit"],
            "currency": result.get("currency"), "numerator": result.get("numerator"),
            "denominator": result.get("denominator"),
        }  # fmt: skip
    return figures


def movement_score(before: float | None, after: float | None) -> float | None:
    """|after - before| / max(|before|, |after|): 0 unchanged, 1 from or to nothing, up to 2 across zero."""
    if before is None or after is None:
        return None
    largest = max(abs(before), abs(after))
    return abs(after - before) / largest if largest else 0.0


def movements(
    before: dict[str, Any], after: dict[str, Any], top: int = TOP_MOVEMENTS
) -> list[dict[str, Any]]:
    """The biggest movements between two periods' figures, largest first (ties in declaration order)."""
    found = []
    for key, now in after.items():
        was = before.get(key, {}).get("value")
        score = movement_score(was, now["value"])
        if not score:
            continue
        found.append({
            "key": key, "metric": now["metric"], "stage": now["stage"], "unit": now["unit"],
            "currency": now.get("currency"), "before": was, "after": now["value"],
            "change": now["value"] - was, "score": score,
        })  # fmt: skip
    found.sort(key=lambda m: -m["score"])
    return found[:top]


def local_bounds(date_from: date, date_to: date, time_zone: str) -> tuple[datetime, datetime]:
    """[local midnight of date_from, local midnight after date_to) as aware moments."""
    zone = ZoneInfo(time_zone)
    return datetime.combine(date_from, time(), zone), datetime.combine(
        date_to + timedelta(days=1), time(), zone
    )


def sla_breaches(
    session: Session, *, date_from: date, date_to: date, as_of: datetime, time_zone: str
) -> dict[str, Any]:
    """Both sides' commitments missed in the period, with how many rows broke each."""
    start, end = local_bounds(date_from, date_to, time_zone)
    ledger = sla_ledger(session=session, period_start=start, period_end=end, as_of=as_of, time_zone=time_zone)
    lines = []
    for line in ledger.lines:
        lines.append({
            "side": line.side, "commitment": line.name, "unit": line.unit, "actual": line.actual,
            "target": line.target, "met": line.met, "breaches": len(line.breaches),
        })  # fmt: skip
    return {"sla_policy_version_id": ledger.sla_policy_version_id, "lines": lines,
            "missed": [line for line in lines if line["met"] is False]}  # fmt: skip


def overdue_items(session: Session, *, today: date) -> list[dict[str, Any]]:
    """Open action items past their due date, oldest due first."""
    rows = session.scalars(
        select(ActionItem)
        .where(ActionItem.status.in_(OPEN_STATUSES), ActionItem.due_date < today)
        .order_by(ActionItem.due_date, ActionItem.id)
    )
    return [item_dict(item) for item in rows]


def item_dict(item: ActionItem) -> dict[str, Any]:
    """An action item as plain data, with its before/after."""
    change = None
    if item.baseline_value is not None and item.current_value is not None:
        change = item.current_value - item.baseline_value
    return {
        "id": item.id, "review_id": item.review_id, "title": item.title, "owner_id": item.owner_id,
        "due_date": item.due_date.isoformat(), "status": item.status, "metric": item.metric,
        "from_stage": item.from_stage, "to_stage": item.to_stage, "segment": dict(item.segment or {}),
        "baseline_value": item.baseline_value, "current_value": item.current_value, "change": change,
        "current_review_id": item.current_review_id,
    }  # fmt: skip


def root_cause_findings(
    url: str, *, date_to: date, as_of: datetime, lang: str | None = None
) -> list[dict[str, Any]]:
    """The top MQL->SQL root-cause findings over the mature cohorts of the last weeks.

    MQL->SQL within FOLLOW_UP_DAYS, as in "leads or follow-up": under the workspace's conversion window
    (90 days by default) no MQL of the last twelve weeks would be mature yet, and there would never be
    anything to find.
    """
    from closedloop.analytics.insights import root_cause

    found = root_cause(url, from_stage="mql", to_stage="sql", pairs=False, as_of=as_of, window=FOLLOW_UP_DAYS,
                       date_from=date_to - timedelta(weeks=ROOT_CAUSE_WEEKS), date_to=date_to)  # fmt: skip
    return [{"group": f["group"], "n": f["n"], "rate": f["rate"], "rest_rate": f["rest_rate"],
             "q_value": f["q_value"], "sentences": f["sentences"]} for f in found["findings"][:3]]  # fmt: skip


def follow_up_blocks(today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(before, after): the two latest four-week blocks whose MQLs are mature at `today`."""
    end = today - timedelta(days=FOLLOW_UP_DAYS + 1)
    after = (end - timedelta(days=FOLLOW_UP_BLOCK - 1), end)
    before = (after[0] - timedelta(days=FOLLOW_UP_BLOCK), after[0] - timedelta(days=1))
    return before, after


def leads_or_follow_up(url: str, *, as_of: datetime, today: date) -> dict[str, Any]:
    """Did MQL->SQL move because of which leads came (mix, by channel) or how they were followed up (rate)?"""
    from closedloop.analytics.insights import mix_vs_rate

    before, after = follow_up_blocks(today)
    found = mix_vs_rate(url, dimension="channel", before=(before[0].isoformat(), before[1].isoformat()),
                        after=(after[0].isoformat(), after[1].isoformat()), as_of=as_of.isoformat(),
                        window=FOLLOW_UP_DAYS)  # fmt: skip
    return {
        "before": [before[0].isoformat(), before[1].isoformat()], "after": [after[0].isoformat(), after[1].isoformat()],
        "window_days": FOLLOW_UP_DAYS, "rate_before": found["rate_before"], "rate_after": found["rate_after"],
        "change": found["change"], "leads": found["mix"], "follow_up": found["rate"],
        "segments": found["segments"][:5],
    }  # fmt: skip


def build_agenda(
    url: str, *, session: Session, period: tuple[date, date], previous: tuple[date, date], as_of: datetime,
    scope: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """The agenda of a review of `period` against `previous`, every number measured at `as_of`."""
    ws = api.workspace(url)
    after = period_figures(url, date_from=period[0], date_to=period[1], as_of=as_of, scope=scope)
    before = period_figures(url, date_from=previous[0], date_to=previous[1], as_of=as_of, scope=scope)
    today = as_of.astimezone(ZoneInfo(ws.time_zone)).date()
    return {
        "data_as_of": as_of.astimezone(ZoneInfo(ws.time_zone)).isoformat(),
        "period": [period[0].isoformat(), period[1].isoformat()],
        "previous": [previous[0].isoformat(), previous[1].isoformat()],
        "figures": after,
        "previous_figures": before,
        "movements": movements(before, after),
        "sla": sla_breaches(
            session, date_from=period[0], date_to=period[1], as_of=as_of, time_zone=ws.time_zone
        ),
        "overdue": overdue_items(session, today=today),
        "root_causes": root_cause_findings(url, date_to=period[1], as_of=as_of),
        "leads_or_follow_up": leads_or_follow_up(url, as_of=as_of, today=today),
    }
