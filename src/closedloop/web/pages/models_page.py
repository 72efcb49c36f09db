"""The models page: each target's active lead model, its evaluation against the baselines, and its versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from closedloop.errors import Forbidden
from closedloop.predictive import registry, service
from closedloop.predictive.models import PredictiveModel
from closedloop.predictive.router import READERS
from closedloop.predictive.service import TARGETS
from closedloop.web import charts_models
from closedloop.web.pages import numbers
from closedloop.web.pages.common import Page, PageDep, PageRoute, render
from closedloop.web.pages.tables import Table, csv_response

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ROLES = frozenset({"admin", "manager", "marketing"})  # the roles that may train (predictive.router.TRAINERS)
MEASURES = ("auc", "log_loss", "brier")


def _evaluation(page: Page, target: str, m: dict[str, Any]) -> Table:
    """AUC, log loss and Brier of the model, the baseline and naive Bayes."""
    table = Table(f"evaluation-{target}", page.t("web.models.evaluation"),
                  [page.t("web.models.col.measure"), page.t("web.models.col.model"),
                   page.t("web.models.col.baseline"), page.t("web.models.col.naive_bayes")], numeric={1, 2, 3})  # fmt: skip
    for name in MEASURES:
        values = [m.get(name), (m.get("baseline") or {}).get(name), (m.get("naive_bayes") or {}).get(name)]
        table.add([page.t(f"web.models.{name}"), *(page.num(v, 3) for v in values)], [name, *values])
    return table


def _calibration(page: Page, target: str, m: dict[str, Any]) -> Table:
    table = Table(f"calibration-{target}", page.t("web.models.calibration"),
                  [page.t("web.models.col.decile"), page.t("web.models.col.leads"),
                   page.t("web.models.col.predicted"), page.t("web.models.col.observed")], numeric={0, 1, 2, 3})  # fmt: skip
    for r in m.get("calibration") or []:
        table.add([page.num(r["decile"]), page.num(r["n"]), page.pct(r["predicted"]), page.pct(r["observed"])],
                  [r["decile"], r["n"], r["predicted"], r["observed"]])  # fmt: skip
    return table


def _lift(page: Page, target: str, m: dict[str, Any]) -> Table:
    table = Table(f"lift-{target}", page.t("web.models.lift"),
                  [page.t("web.models.col.decile"), page.t("web.models.col.leads"), page.t("web.models.col.positives"),
                   page.t("web.models.col.rate"), page.t("web.models.col.lift"), page.t("web.models.col.capture")],
                  numeric={0, 1, 2, 3, 4, 5})  # fmt: skip
    for r in m.get("lift") or []:
        table.add([page.num(r["decile"]), page.num(r["n"]), page.num(r["positives"]), page.pct(r["rate"]),
                   page.num(r["lift"], 2), page.pct(r["capture"])],
                  [r["decile"], r["n"], r["positives"], r["rate"], r["lift"], r["capture"]])  # fmt: skip
    return table


def _versions(page: Page, target: str, rows: list[Any]) -> Table:
    table = Table(f"versions-{target}", page.t("web.models.versions"),
                  [page.t("web.models.col.version"), page.t("web.models.col.trained_at"), "AUC",
                   page.t("web.models.col.status")], numeric={2}, data={0})  # fmt: skip
    for row in rows:
        status = page.t("web.models.active" if row.active else "web.models.inactive")
        auc = (row.metrics or {}).get("auc")
        table.add([row.version, page.when(row.trained_at), page.num(auc, 3), status],
                  [row.version, row.trained_at, auc, row.active])  # fmt: skip
    return table


@router.get("/models")
def models(page: PageDep) -> Response:
    """Per target: the active version's evaluation (figures, calibration curve, lift) and every version."""
    if page.actor.role not in ROLES:
        raise Forbidden(page.t("access.error.forbidden", resource="predictive", action="read"))
    session = page.request.state.db
    sections, tables, specs = [], [], {}
    for target in TARGETS:
        rows = registry.versions(session=session, kind="lead", target=target)
        if not rows:
            continue
        current = next((r for r in rows if r.active), None)
        section: dict[str, Any] = {"target": target, "label": page.t(f"web.models.target.{target}"),
                                   "model": current, "versions": _versions(page, target, rows)}  # fmt: skip
        tables.append(section["versions"])
        if current is not None:
            m = current.metrics or {}
            warning = m.get("warning")
            section.update(evaluation=_evaluation(page, target, m), calibration=_calibration(page, target, m),
                           lift=_lift(page, target, m), warning=page.t(warning) if warning else None)  # fmt: skip
            tables += [section["evaluation"], section["calibration"], section["lift"]]
            points = [{"decile": r["decile"], "predicted": r["predicted"], "observed": r["observed"]}
                      for r in m.get("calibration") or []]  # fmt: skip
            specs[f"calibration-{target}"] = numbers.chart(
                charts_models.calibration, points, title=page.t("web.models.calibration"),
                predicted_label=page.t("web.models.col.predicted"), observed_label=page.t("web.models.col.observed"),
            )  # fmt: skip
        sections.append(section)
    csv = csv_response(page, tables)
    if csv is not None:
        return csv
    return render(page, "models.html", sections=sections, specs=specs)


def lead_prediction(page: Page, lead_id: int) -> dict[str, Any] | None:
    """The active win model's probability and top factors for a lead; None without a model or if it cannot score."""
    if page.actor.role not in READERS:
        return None
    session = page.request.state.db
    live = select(PredictiveModel.id).where(
        PredictiveModel.kind == "lead", PredictiveModel.target == "won", PredictiveModel.active.is_(True)
    )
    if session.scalar(live) is None:
        return None
    try:
        return service.explain_lead(session=session, lead_id=lead_id, target="won", lang=page.lang)
    except Exception:  # the prediction is advisory: a scoring problem never takes the lead page down
        return None
