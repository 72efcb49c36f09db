"""The waterfall (SPEC section 5): cohort mode (default) and period mode, by any dimensions."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from closedloop.analytics import relations as rel
from closedloop.analytics import snapshot
from closedloop.analytics.declarations import LEAD_DIMENSIONS
from closedloop.analytics.slicing import Slice, check_dimension
from closedloop.analytics.stats import rate
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

MODES = ("cohort", "period")


def parse_stages(stages: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Main-line stages in waterfall order (default lead..customer)."""
    if stages is None or stages == "":
        return rel.STAGES
    names = tuple(s.strip() for s in (stages.split(",") if isinstance(stages, str) else stages) if s.strip())
    for name in names:
        if name not in rel.STAGES:
            raise ValidationFailed(
                translate("analytics.error.bad_stage", stage=name), detail={"field": "stages"}
            )
    indexes = [rel.STAGES.index(s) for s in names]
    if len(names) < 2 or indexes != sorted(set(indexes)):
        raise ValidationFailed(translate("analytics.error.stage_list"), detail={"field": "stages"})
    return names


def facts_ctes(q: rel.Sql, sl: Slice, stages: tuple[str, ...], mode: str) -> list[str]:
    """CTEs ending in `facts`: one row per lead in the funnel with its group values and reaches."""
    s0 = stages[0]
    ctes = [*rel.reach_ctes(q, sl, real=False), rel.dims_cte(q, sl, "lead", sl.by)]
    start, end = q.bind(sl.start, "start"), q.bind(sl.end, "end")
    cols = ", ".join(f"r.at_{s}" for s in stages)
    groups = "".join(f", dims.g_{d}" for d in sl.by)
    if mode == "cohort":
        cutoff = f"({q.bind(sl.as_of_naive, 'asof')} - to_days(CAST({q.bind(sl.window, 'win')} AS INTEGER)))"
        where = f"r.at_{s0} >= {start} AND r.at_{s0} < {end}"
        reached = [
            f"(r.at_{s0} <= {cutoff} AND r.at_{s} <= r.at_{s0} + to_days(CAST({q.bind(sl.window, 'win')} AS INTEGER)))"
            f" AS in_{s}"
            for s in stages
        ]
        extra = f", NOT (r.at_{s0} <= {cutoff}) AS immature"
    else:
        where = f"r.at_{s0} < {end}"
        reached = [f"coalesce(r.at_{s} >= {start} AND r.at_{s} < {end}, false) AS in_{s}" for s in stages]
        extra = ", FALSE AS immature"
    ctes.append(
        f"facts AS (SELECT dims.id{groups}, {cols}, {', '.join(reached)}{extra}\n"
        f"  FROM reach r JOIN dims ON dims.id = r.lead_id WHERE {where})"
    )
    return ctes


def funnel_sql(sl: Slice, stages: tuple[str, ...], mode: str) -> tuple[str, dict[str, Any]]:
    """The funnel's SQL and parameters: counts per stage and the immature count, per group."""
    q = rel.Sql()
    ctes = facts_ctes(q, sl, stages, mode)
    g = ", ".join(f"g_{d}" for d in sl.by)
    counts = ", ".join(f"count(*) FILTER (WHERE in_{s}) AS c_{i}" for i, s in enumerate(stages))
    select = (
        f"SELECT {g + ', ' if g else ''}{counts}, count(*) FILTER (WHERE immature) AS immature FROM facts"
    )
    return rel.with_clause(ctes) + select + (f" GROUP BY {g}" if g else ""), q.params


def funnel(
    url: str, sl: Slice, *, stages: tuple[str, ...] = rel.STAGES, mode: str = "cohort"
) -> dict[str, Any]:
    """The funnel in the JSON shape of SPEC section 7."""
    if mode not in MODES:
        raise ValidationFailed(translate("analytics.error.bad_mode", mode=mode), detail={"field": "mode"})
    for dim in (*sl.by, *sl.where):
        check_dimension(dim, LEAD_DIMENSIONS)
    sql, params = funnel_sql(sl, stages, mode)
    result_rows: list[dict[str, Any]] = []
    pairs = list(pairwise(stages))
    if len(stages) > 2:
        pairs.append((stages[0], stages[-1]))
    for row in snapshot.rows(url, sql, params):
        counts = {s: int(row[f"c_{i}"]) for i, s in enumerate(stages)}
        if sl.by and not any(counts.values()) and not row["immature"]:
            continue
        rates = {f"{a}->{b}": rate(counts[b], counts[a], interval=mode == "cohort") for a, b in pairs}
        result_rows.append(
            {
                "group": {d: row[f"g_{d}"] for d in sl.by},
                "counts": counts,
                "rates": rates,
                "immature": int(row["immature"]),
            }
        )
    result_rows.sort(key=lambda r: (-r["counts"][stages[0]], [str(v) for v in r["group"].values()]))
    return {"mode": mode, "stages": list(stages), "as_of": sl.iso(sl.as_of), "rows": result_rows}


def drill_sql(sl: Slice, stages: tuple[str, ...], mode: str, stage: str | None) -> tuple[str, dict[str, Any]]:
    """Lead ids behind a funnel cell: the count of `stage` (or the immature leads when None)."""
    q = rel.Sql()
    ctes = facts_ctes(q, sl, stages, mode)
    condition = f"in_{stage}" if stage else "immature"
    return rel.with_clause(ctes) + f"SELECT id FROM facts WHERE {condition}", q.params
