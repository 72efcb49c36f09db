"""Attribution (every model side by side per channel, with the spread) and campaigns (spend to ROI)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from closedloop.analytics import snapshot
from closedloop.web import charts
from closedloop.web.pages import numbers
from closedloop.web.pages.common import PageDep, PageRoute, period, render
from closedloop.web.pages.tables import Table, csv_response

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Conversion = Literal["lead", "mql", "sql", "opportunity", "won"]
Key = Literal["channel", "utm_source", "campaign", "utm_content"]
From = Annotated[str | None, Query(alias="from", max_length=10)]
To = Annotated[str | None, Query(alias="to", max_length=10)]
CAMPAIGN_COUNTS = ("lead", "mql", "sql", "customer")
CAMPAIGN_MONEY = ("spend", "cpl", "cost_per_mql", "cost_per_sql", "cac", "roi", "roas")
# The attribution model that credits campaigns in cost per X, CAC, ROI and ROAS (analytics.attributed).
Model = Literal[
    "first_touch", "last_touch", "linear", "time_decay", "position_based", "w_shaped", "markov", "shapley"
]
_COMPARED: dict[tuple[str, str, str, str], Any] = {}


def compare(url: str, conversion: str, by: str) -> Any:
    """Every applicable model on the store's journeys, kept while the analytics snapshot is current."""
    from closedloop.attribution.compare import compare_models
    from closedloop.attribution.journeys import build_journeys

    generation = snapshot.schema(url)
    key = (url, generation, conversion, by)
    if generation != snapshot.LIVE and key in _COMPARED:
        return _COMPARED[key]
    result = compare_models(build_journeys(url, conversion=conversion, by=by))
    if generation != snapshot.LIVE:
        _COMPARED.clear()  # one generation at a time: older ones can never be asked again
        _COMPARED[key] = result
    return result


@router.get("/attribution")
def attribution(page: PageDep, conversion: Conversion = "won", by: Key = "channel") -> Response:
    """Credit per key under each model, and how far the models disagree (spread = max − min)."""
    page.require("leads", "summary")
    page.require("deals", "summary")
    result = compare(page.url, conversion, by)
    table = Table("attribution", page.t("web.attribution.table"),
                  [page.t(f"web.dim.{by}"), *(page.t(f"web.model.{m}") for m in result.models),
                   page.t("web.col.spread"), page.t("web.col.cv")])  # fmt: skip
    table.numeric, table.data = set(range(1, len(table.header))), {0}
    chart_rows = []
    for row in sorted(result.rows(), key=lambda r: -max(r["conversions"].values(), default=0)):
        conv = row["conversions"]
        table.add([row["key"], *(page.num(conv[m], 1) for m in result.models), page.num(row["spread"], 1),
                   page.pct(row["cv"])],
                  [row["key"], *(conv[m] for m in result.models), row["spread"], row["cv"]])  # fmt: skip
        chart_rows += [
            {"key": row["key"], "group": page.t(f"web.model.{m}"), "value": conv[m]} for m in result.models
        ]
    csv = csv_response(
        page, [Table("attribution", table.caption, [by, *result.models, "spread", "cv"], raw=table.raw)]
    )
    if csv is not None:
        return csv
    spec = numbers.chart(charts.grouped_bars, chart_rows, title=page.t("web.attribution.table"), key_label=page.t(f"web.dim.{by}"),
                               value_label=page.t("web.col.credit"), group_label=page.t("web.col.model"))  # fmt: skip
    return render(page, "attribution.html", table=table, specs={"credit": spec} if chart_rows else {},
                  conversion=conversion, by=by, conversions=Conversion.__args__, keys=Key.__args__)  # type: ignore[attr-defined]  # fmt: skip


def _by_campaign(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        out.setdefault(str(r["group"].get("campaign")), {})[r["metric"]] = r
    return out


@router.get("/campaigns")
def campaigns_page(
    page: PageDep, date_from: From = None, date_to: To = None, model: Model = "first_touch"
) -> Response:
    """Spend, leads, MQLs, SQLs, won, CPL, CAC, ROI and ROAS per campaign, credited by the chosen model."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    page.require("campaigns", "read")
    ws = numbers.workspace(page.url)
    start, end = period(date_from, date_to, datetime.now(ZoneInfo(ws.time_zone)).date())
    scope, _ = page.scope()
    common = {"date_from": start, "date_to": end, "by": ["campaign"], "scope": scope}  # fmt: skip
    calls = {
        f"n:{s}": ("metrics", {"names": ["stage_count"], "from_stage": s, **common}) for s in CAMPAIGN_COUNTS
    }
    calls["money"] = ("metrics", {"names": list(CAMPAIGN_MONEY), "model": model, **common})
    got = numbers.ask(page.url, calls)
    counts = {s: _by_campaign(got[f"n:{s}"]["results"]) for s in CAMPAIGN_COUNTS}
    money = _by_campaign(got["money"]["results"])
    names = sorted(set(money) | {c for s in CAMPAIGN_COUNTS for c in counts[s]},
                   key=lambda c: -((money.get(c, {}).get("spend") or {}).get("value") or 0))  # fmt: skip
    table = Table("campaigns", page.t("web.nav.campaigns"),
                  [page.t("web.dim.campaign"), page.t("web.metric.spend"), *(page.stage(s) for s in CAMPAIGN_COUNTS),
                   *(page.t(f"web.metric.{m}") for m in CAMPAIGN_MONEY[1:])])  # fmt: skip
    table.numeric, table.data = set(range(1, len(table.header))), {0}
    for name in names:
        m = money.get(name, {})
        vals = {k: (m.get(k) or {}).get("value") for k in CAMPAIGN_MONEY}
        n = {s: (counts[s].get(name, {}).get("stage_count") or {}).get("value") or 0 for s in CAMPAIGN_COUNTS}
        table.add([name, page.money(vals["spend"], ws.currency), *(page.num(n[s]) for s in CAMPAIGN_COUNTS),
                   *(page.money(vals[k], ws.currency) for k in ("cpl", "cost_per_mql", "cost_per_sql", "cac")),
                   page.pct(vals["roi"]), _times(page, vals["roas"])],
                  [name, vals["spend"], *(n[s] for s in CAMPAIGN_COUNTS),
                   *(vals[k] for k in ("cpl", "cost_per_mql", "cost_per_sql", "cac", "roi", "roas"))])  # fmt: skip
    csv_header = [
        "campaign",
        "spend",
        *CAMPAIGN_COUNTS,
        "cpl",
        "cost_per_mql",
        "cost_per_sql",
        "cac",
        "roi",
        "roas",
    ]
    csv = csv_response(page, [Table("campaigns", table.caption, csv_header, raw=table.raw)])
    if csv is not None:
        return csv
    spend_rows = [{"key": r[0], "value": r[1] or 0} for r in table.raw[:15]]
    specs = {"spend": numbers.chart(charts.bars, spend_rows, title=page.t("web.campaigns.spend"), key_label=page.t("web.dim.campaign"),
                                  value_label=page.t("web.metric.spend"))} if spend_rows else {}  # fmt: skip
    from closedloop.web.pages.settings import may_open

    return render(page, "campaigns.html", table=table, specs=specs, start=start, end=end, model=model,
                  models=Model.__args__, channel_rules=may_open(page.actor, "/settings/channels"))  # type: ignore[attr-defined]  # fmt: skip


def _times(page: Any, value: float | None) -> str:
    """ROAS as a multiple (revenue per unit of spend), e.g. 3.2×."""
    return "—" if value is None else page.t("web.campaigns.times", value=page.num(value, 2))
