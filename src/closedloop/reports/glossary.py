"""The glossary / "how we work" page and the one-page SLA agreement, generated from the rules in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from closedloop.analytics.declarations import METRICS
from closedloop.handoffs import sla
from closedloop.handoffs.models import REJECTION_REASONS
from closedloop.i18n import translate
from closedloop.leads.lifecycle import ALLOWED, MAIN_LINE, OFF_LINE
from closedloop.policies.service import payload_in_force, policy_in_force


def sla_terms(session: Session, at: datetime, lang: str) -> dict[str, Any]:
    """The SLA policy in force at `at`, as sentences for each side, with its version."""
    payload, _ = payload_in_force(session, "sla", at, sla.DEFAULT_SLA)
    policy = sla.parse_sla(payload)
    version = policy_in_force(session, "sla", at)
    marketing = [translate("reports.sla.mql_volume", lang, count=f"{policy.mql_volume_per_month:,.0f}"),
                 translate("reports.sla.mql_quality", lang, share=f"{policy.mql_to_sql_rate:.0%}")]  # fmt: skip
    sales = [
        translate("reports.sla.first_response", lang, hours=f"{policy.first_response_hours:g}"),
        translate("reports.sla.compliance", lang, share=f"{policy.response_compliance:.0%}"),
        translate(
            "reports.sla.attempts", lang, attempts=policy.attempts, days=f"{policy.attempts_within_days:g}"
        ),
        translate("reports.sla.decision", lang, hours=f"{policy.accept_within_hours:g}"),
    ]
    if version is None:
        named = translate("reports.sla.default_version", lang)
    else:
        named = translate("reports.sla.version", lang, version=version.version,
                          since=version.effective_from.date().isoformat())  # fmt: skip
    return {"marketing": marketing, "sales": sales, "version": named,
            "version_id": version.id if version else None}  # fmt: skip


def glossary(session: Session, at: datetime, lang: str) -> dict[str, Any]:
    """Stages, allowed changes, metrics, rejection reasons and SLA terms in `lang`."""
    stages = [{"code": s.value, "name": translate(f"stage.{s.value}", lang),
               "when": translate(f"reports.stage_when.{s.value}", lang)} for s in (*MAIN_LINE, *OFF_LINE)]  # fmt: skip
    order = [s.value for s in (*MAIN_LINE, *OFF_LINE)]
    transitions = [
        {"from": translate(f"stage.{source.value}", lang),
         "to": [translate(f"stage.{t}", lang) for t in sorted((x.value for x in targets), key=order.index)]}
        for source, targets in sorted(ALLOWED.items(), key=lambda kv: order.index(kv[0].value))
    ]  # fmt: skip
    metrics = [{"code": m.name, "definition": m.descriptions[lang], "unit": m.unit} for m in METRICS.values()]
    reasons = [{"code": r, "name": translate(f"reason.{r}", lang)} for r in REJECTION_REASONS]
    return {"stages": stages, "transitions": transitions, "metrics": metrics, "reasons": reasons,
            "sla": sla_terms(session, at, lang)}  # fmt: skip
