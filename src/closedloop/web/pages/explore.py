"""Funnel explorer (with drill-through), attribution model comparison, and campaigns."""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from closedloop.access.scope import scoped
from closedloop.analytics.declarations import LEAD_DIMENSIONS
from closedloop.errors import Forbidden
from closedloop.leads.models import Lead
from closedloop.users.models import User
from closedloop.web import charts
from closedloop.web.pages import numbers
from closedloop.web.pages.common import Page, PageDep, PageRoute, period, render
from closedloop.web.pages.tables import Table, csv_response

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ALL_STAGES = ("lead", "mql", "sal", "sql", "opportunity", "customer")
MAX_DIMS = 2
Text = Annotated[str | None, Query(max_length=200)]
Many = Annotated[list[str], Query(default_factory=list, max_length=10)]
From = Annotated[str | None, Query(alias="from", max_length=10)]
To = Annotated[str | None, Query(alias="to", max_length=10)]


def _today(page: Page) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(numbers.workspace(page.url).time_zone)).date()


def _state(page: Page, stage: list[str], mode: str | None, by: list[str], where: list[str], date_from: str | None,
           date_to: str | None) -> dict[str, Any]:  # fmt: skip
    """The explorer's whole state, validated; it round-trips through the query string (shareable URL)."""
    chosen = [s for s in ALL_STAGES if s in stage] or list(ALL_STAGES)
    if len(chosen) < 2:
        chosen = list(ALL_STAGES)
    dims = [d for d in dict.fromkeys(by) if d in LEAD_DIMENSIONS][:MAX_DIMS]
    filters = [w for w in where if "=" in w and w.split("=", 1)[0] in LEAD_DIMENSIONS and w.split("=", 1)[1]][
        :5
    ]
    start, end = period(date_from, date_to, _today(page))
    return {"stage": chosen, "mode": "period" if mode == "period" else "cohort", "by": dims, "where": filters,
            "from": start.isoformat(), "to": end.isoformat()}  # fmt: skip


def _slicing(page: Page, st: dict[str, Any]) -> dict[str, Any]:
    scope, _ = page.scope()
    return {"date_from": st["from"], "date_to": st["to"], "where": st["where"], "scope": scope}  # fmt: skip


@router.get("/funnel")
def explorer(page: PageDep, stage: Many, by: Many, where: Many, mode: Text = None, date_from: From = None,
             date_to: To = None) -> Response:  # fmt: skip
    """Pick stages, mode, period, up to two dimensions and filters; every count drills to its leads."""
    page.require("leads", "summary")
    st = _state(page, stage, mode, by, where, date_from, date_to)
    stages = st["stage"]
    got = numbers.ask(page.url, {"f": ("funnel", {"stages": ",".join(stages), "mode": st["mode"], "by": st["by"],
                                                  **_slicing(page, st)})})  # fmt: skip
    rows = got["f"]["rows"]
    _, personal = page.scope()
    pairs = [f"{a}->{b}" for a, b in pairwise(stages)]
    if len(stages) > 2:
        pairs.append(f"{stages[0]}->{stages[-1]}")
    dim_labels = [page.t(f"web.dim.{d}") for d in st["by"]]
    table = Table("funnel", page.t("web.funnel.table"),
                  [*dim_labels, *(page.stage(s) for s in stages),
                   *(page.t("web.funnel.rate", pair=" → ".join(page.stage(x) for x in p.split("->"))) for p in pairs),
                   page.t("web.col.immature")])  # fmt: skip
    table.numeric = set(range(len(dim_labels), len(table.header)))
    table.data = set(range(len(dim_labels)))
    csv_header = [*st["by"], *stages]
    for pr in pairs:
        csv_header += [pr, f"{pr} low", f"{pr} high"]
    csv_header.append("immature")
    chart_rows = []
    for row in rows:
        group = row["group"]
        cells: list[Any] = [str(group.get(d)) for d in st["by"]]
        raw: list[Any] = [group.get(d) for d in st["by"]]
        cell_params = [f"{d}={group.get(d)}" for d in st["by"]]
        for s in stages:
            count = row["counts"].get(s, 0)
            href = (
                page.link("/funnel/leads", {**_link_state(st), "cell": cell_params, "at": s})
                if personal and count
                else None
            )
            cells.append((page.num(count), href) if href else page.num(count))
            raw.append(count)
            chart_rows.append({"key": " · ".join(map(str, (group.get(d) for d in st["by"]))) or page.t("web.all"),
                               "group": page.stage(s), "value": count})  # fmt: skip
        for pr in pairs:
            r = row["rates"].get(pr) or {}
            text = page.pct(r.get("value"))
            if r.get("low") is not None:
                text += " " + page.t("web.interval_short", low=page.pct(r["low"]), high=page.pct(r["high"]))
            cells.append(text)
            raw += [r.get("value"), r.get("low"), r.get("high")]
        cells.append(page.num(row.get("immature", 0)))
        raw.append(row.get("immature", 0))
        table.add(cells, raw)
    csv = csv_response(page, [Table("funnel", table.caption, csv_header, raw=table.raw)])
    if csv is not None:
        return csv
    spec = numbers.chart(charts.grouped_bars, chart_rows[: 40 * len(stages)], title=page.t("web.funnel.table"),
                               key_label=" · ".join(dim_labels) or page.t("web.all"),
                               value_label=page.t("web.col.leads"), group_label=page.t("web.col.stage"))  # fmt: skip
    return render(page, "funnel.html", st=st, table=table, specs={"funnel": spec}, all_stages=ALL_STAGES,
                  dims=LEAD_DIMENSIONS, share=page.link("/funnel", _link_state(st)), personal=personal)  # fmt: skip


def _link_state(st: dict[str, Any]) -> dict[str, Any]:
    return {"stage": st["stage"], "mode": st["mode"], "by": st["by"], "where": st["where"], "from": st["from"],
            "to": st["to"]}  # fmt: skip


@router.get("/funnel/leads")
def drill(page: PageDep, stage: Many, by: Many, where: Many, cell: Many, mode: Text = None, at: Text = None,
          date_from: From = None, date_to: To = None,
          n: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:  # fmt: skip
    """The leads behind one funnel cell, within what the caller may see."""
    page.require("leads", "read")
    _, personal = page.scope()
    if not personal:
        raise Forbidden(page.t("web.error.forbidden"))
    st = _state(page, stage, mode, by, where, date_from, date_to)
    group = dict(c.split("=", 1) for c in cell if "=" in c and c.split("=", 1)[0] in st["by"])
    at_stage = at if at in st["stage"] else st["stage"][0]
    got = numbers.ask(page.url, {"d": ("drill", {"group": group, "stage": at_stage, "stages": ",".join(st["stage"]),
                                                 "mode": st["mode"], "page": n, "page_size": 100,
                                                 **_slicing(page, st)})})["d"]  # fmt: skip
    db = page.request.state.db
    leads = list(
        db.scalars(scoped(select(Lead).where(Lead.id.in_(got["ids"])), Lead, page.actor).order_by(Lead.id))
    )
    owners = dict(db.execute(select(User.id, func.coalesce(User.name, User.email))).all())
    table = Table("drill", page.t("web.drill.title", stage=page.stage(at_stage)),
                  [page.t("web.col.lead"), page.t("web.col.stage"), page.t("web.col.channel"), page.t("web.col.owner"),
                   page.t("web.col.created")], data={0, 2, 3})  # fmt: skip
    for lead in leads:
        label = lead.name or lead.email or f"#{lead.id}"
        table.add([(label, f"/leads/{lead.id}"), page.stage(lead.stage), lead.first_channel or "",
                   owners.get(lead.owner_id, ""), page.when(lead.created_at)],
                  [lead.id, label, lead.stage, lead.first_channel, owners.get(lead.owner_id, ""), lead.created_at])  # fmt: skip
    csv = csv_response(page, [Table("drill", table.caption, ["id", *table.header], raw=table.raw)])
    if csv is not None:
        return csv
    pages = max(1, -(-got["total"] // 100))
    here = {**_link_state(st), "cell": cell, "at": at_stage}
    return render(page, "drill.html", table=table, total=got["total"], group=group, n=n, pages=pages,
                  back=page.link("/funnel", _link_state(st)),
                  prev=page.link("/funnel/leads", {**here, "n": n - 1}) if n > 1 else None,
                  next=page.link("/funnel/leads", {**here, "n": n + 1}) if n < pages else None)  # fmt: skip
