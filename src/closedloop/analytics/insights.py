"""Cohort tables, root cause and mix-versus-rate: questions asked of the scorecard's relations."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations
from typing import Any

from closedloop.analytics import compile as comp
from closedloop.analytics import relations as rel
from closedloop.analytics import snapshot
from closedloop.analytics.api import slice_for
from closedloop.analytics.declarations import METRICS
from closedloop.analytics.decompose import Finding, Segment, root_causes, shift_share
from closedloop.errors import ValidationFailed
from closedloop.i18n import LANGUAGES, translate

ROOT_CAUSE_DIMENSIONS = ("channel", "campaign", "region", "country", "industry", "company_size", "lead_type",
                         "source_type", "score_band")  # fmt: skip


def cohorts(
    url: str, *, grain: str = "month", stage: str = "customer", months: int = 12, **slicing: Any
) -> dict[str, Any]:
    """Leads per creation week or month, where they are now, and cumulative conversion to `stage`
    by months since creation (a heat-map-ready table; cells not yet reached by as-of are null)."""
    if grain not in ("week", "month"):
        raise ValidationFailed(f"grain must be week or month, not {grain!r}", detail={"field": "grain"})
    if stage not in rel.STAGES:
        raise ValidationFailed(translate("analytics.error.bad_stage", stage=stage), detail={"field": "stage"})
    sl = slice_for(url, **slicing)
    q = rel.Sql()
    tz = sl.workspace.time_zone
    created = rel.local("r.at_lead", tz)
    key = f"strftime({created}, '%G-W%V')" if grain == "week" else f"strftime({created}, '%Y-%m')"
    highest = (
        "CASE " + " ".join(f"WHEN r.at_{s} IS NOT NULL THEN '{s}'" for s in reversed(rel.STAGES)) + " END"
    )
    since = f"date_diff('month', date_trunc('month', {created}), date_trunc('month', {rel.local(f'r.at_{stage}', tz)}))"
    elapsed = f"date_diff('month', date_trunc('month', {created}), date_trunc('month', {rel.local(q.bind(sl.as_of_naive, 'asof'), tz)}))"
    ctes = [*rel.reach_ctes(q, sl, real=False), rel.dims_cte(q, sl, "lead", ())]
    sql = rel.with_clause(ctes) + (
        f"SELECT {key} AS cohort, {highest} AS now, {since} AS since, min({elapsed}) AS elapsed, count(*) AS k"
        f" FROM reach r JOIN dims ON dims.id = r.lead_id"
        f" WHERE r.at_lead >= {q.bind(sl.start, 'start')} AND r.at_lead < {q.bind(sl.end, 'end')} GROUP BY ALL"
    )
    table: dict[str, dict[str, Any]] = {}
    for row in snapshot.rows(url, sql, q.params):
        entry = table.setdefault(
            row["cohort"], {"leads": 0, "now": {}, "since": {}, "elapsed": row["elapsed"]}
        )
        entry["leads"] += row["k"]
        entry["now"][row["now"]] = entry["now"].get(row["now"], 0) + row["k"]
        entry["elapsed"] = max(entry["elapsed"], row["elapsed"])
        if row["since"] is not None:
            entry["since"][row["since"]] = entry["since"].get(row["since"], 0) + row["k"]
    rows = []
    for cohort in sorted(table):
        entry = table[cohort]
        reached, cells = 0, []
        for k in range(months + 1):
            reached += entry["since"].get(k, 0)
            open_cell = k > entry["elapsed"]
            cells.append({"months": k, "value": None if open_cell else reached / entry["leads"],
                          "numerator": None if open_cell else reached, "denominator": entry["leads"]})  # fmt: skip
        rows.append({"cohort": cohort, "leads": entry["leads"], "now": entry["now"], "conversion": cells})
    return {"grain": grain, "stage": stage, "as_of": sl.iso(sl.as_of), "rows": rows}


def _segment_counts(
    url: str, sl: Any, from_stage: str, to_stage: str, sets: list[tuple[str, ...]]
) -> list[dict[str, Any]]:
    """Mature-cohort (n, x) of conversion from_stage->to_stage per grouping set of dimensions."""
    dims = tuple(dict.fromkeys(d for s in sets for d in s))
    sliced = replace(sl, by=dims)
    c = comp.compile_metric(METRICS["conversion"], sliced, from_stage=from_stage, to_stage=to_stage)
    flags = ", ".join(f"grouping(g_{d}) AS k_{d}" for d in dims)
    groups = ", ".join("(" + ", ".join(f"g_{d}" for d in s) + ")" for s in sets)
    sql = rel.with_clause(c.ctes) + (
        f"SELECT {', '.join(f'g_{d}' for d in dims)}, {flags}, count(*) FILTER (WHERE den) AS n,"
        f" count(*) FILTER (WHERE den AND num) AS x, count(*) FILTER (WHERE imm) AS i"
        f" FROM facts GROUP BY GROUPING SETS ({groups}, ())"
    )
    return [
        {
            "group": {d: r[f"g_{d}"] for d in dims if r[f"k_{d}"] == 0},
            "n": int(r["n"]),
            "x": int(r["x"]),
            "immature": int(r["i"]),
        }
        for r in snapshot.rows(url, sql, c.sql.params)
    ]


def root_cause(
    url: str, *, from_stage: str = "mql", to_stage: str = "sql", dimensions: tuple[str, ...] = ROOT_CAUSE_DIMENSIONS,
    pairs: bool = True, alpha: float = 0.05, min_n: int = 30, **slicing: Any,
) -> dict[str, Any]:  # fmt: skip
    """Segments (each dimension's values, and pairs) converting significantly differently from the rest."""
    sl = slice_for(url, **slicing)
    sets: list[tuple[str, ...]] = [(d,) for d in dimensions] + (
        list(combinations(dimensions, 2)) if pairs else []
    )
    counts = _segment_counts(url, sl, from_stage, to_stage, sets)
    total = next(c for c in counts if not c["group"])
    segments = [Segment(c["group"], c["n"], c["x"]) for c in counts if c["group"]]
    found = root_causes(segments, total["n"], total["x"], alpha=alpha, min_n=min_n)
    return {
        "from_stage": from_stage, "to_stage": to_stage, "as_of": sl.iso(sl.as_of),
        "cohort": {"n": total["n"], "x": total["x"]},
        "tested": sum(1 for s in segments if s.n >= min_n and total["n"] - s.n >= min_n),
        "findings": [_finding(f, from_stage, to_stage) for f in found],
    }  # fmt: skip


def _finding(f: Finding, from_stage: str, to_stage: str) -> dict[str, Any]:
    sentences = {}
    for lang in LANGUAGES:
        parts = [f"{translate(f'analytics.dim.{d}', lang)} {v}" for d, v in f.group.items()]
        sentences[lang] = translate(
            "analytics.root_cause.sentence", lang, segment=translate("analytics.list_sep", lang).join(parts),
            from_stage=from_stage.upper() if from_stage != "lead" else translate("stage.lead", lang),
            to_stage=to_stage.upper() if to_stage != "customer" else translate("stage.customer", lang),
            rate=f"{f.rate:.1%}", n=f"{f.n:,}", rest=f"{f.rest_rate:.1%}",
        )  # fmt: skip
    return {"group": f.group, "n": f.n, "rate": f.rate, "rest_n": f.rest_n, "rest_rate": f.rest_rate, "z": f.z,
            "p_value": f.p_value, "q_value": f.q_value, "impact": f.impact, "sentences": sentences}  # fmt: skip


def mix_vs_rate(
    url: str, *, dimension: str, before: tuple[str, str], after: tuple[str, str], from_stage: str = "mql",
    to_stage: str = "sql", as_of: str | None = None, window: int | None = None, where: Any = None,
    scope: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """Split the change of a mature-cohort conversion between two periods into mix and rate parts
    (`scope`: the caller's aggregate row scope, as every other analytics call takes it)."""
    periods, sizes = [], []
    for start, end in (before, after):
        sl = slice_for(
            url, date_from=start, date_to=end, as_of=as_of, window=window, where=where, scope=scope
        )
        rows = _segment_counts(url, sl, from_stage, to_stage, [(dimension,)])
        periods.append({r["group"][dimension]: (r["n"], r["x"]) for r in rows if r["group"] and r["n"]})
        total = next((r for r in rows if not r["group"]), {"n": 0, "immature": 0})
        sizes.append((total["n"], total["immature"]))
    result = shift_share(periods[0], periods[1])
    # Only mature cohorts are compared: leads too young to have converted are left out and counted.
    return {"dimension": dimension, "from_stage": from_stage, "to_stage": to_stage, "as_of": sl.iso(sl.as_of),
            "rate_before": result.before, "rate_after": result.after, "change": result.change,
            "mix": result.mix, "rate": result.rate, "segments": result.segments,
            "leads": {"before": sizes[0][0], "after": sizes[1][0]},
            "immature": {"before": sizes[0][1], "after": sizes[1][1]}}  # fmt: skip
