"""Revenue after the sale (invoices, refunds, churn), feedback, quotas, goals and team costs."""

from __future__ import annotations

from datetime import date

import numpy as np

from closedloop.demo import reference as ref
from closedloop.demo.frame import DAY, NULL, Table
from closedloop.demo.people import Staff

MONTH = 30.4375 * DAY
INT4_MAX = 2**31 - 1
OFFSET = 8 * 3600


def revenue(
    rng: np.random.Generator, won: dict[str, np.ndarray], country: np.ndarray, *, end: int
) -> tuple[Table, np.ndarray]:
    """Invoices per won deal until the customer churns or the period ends, and some refunds.

    Returns the table and each won deal's churn instant (for feedback).
    """
    n = len(won["id"])
    billing = np.array([p[1] for p in ref.PRODUCTS], dtype=object)[won["product"]]
    # Churn: weaker customers leave sooner (median lifetime 1.5-4 years).
    lifetime = rng.exponential(900 * DAY * np.clip(won["quality"], 0.4, 2.0) ** 0.6, n).astype(np.int64)
    churn = won["closed"] + np.maximum(lifetime, 45 * DAY)
    step = np.where(billing == "monthly", MONTH, 12 * MONTH)
    stop = np.minimum(churn, end)
    count = np.where(billing == "once", 1, np.ceil((stop - won["closed"]) / step).astype(np.int64)).clip(
        1, None
    )
    deal = np.repeat(np.arange(n), count)
    k = np.arange(len(deal)) - np.repeat(np.cumsum(count) - count, count)
    at = won["closed"][deal] + (k * step[deal]).astype(np.int64) + 3600
    keep = at < end
    deal, k, at = deal[keep], k[keep], at[keep]
    amount = np.where(
        billing[deal] == "monthly",
        np.round(won["amount_minor"][deal] / 12 / 100) * 100,
        won["amount_minor"][deal],
    ).astype(np.int64)
    kind = np.where(billing[deal] == "once", "invoice", "subscription").astype(object)
    start_day = (at + OFFSET) // DAY
    length = np.where(billing[deal] == "monthly", 30, np.where(billing[deal] == "annual", 365, 0))
    tax_rate = np.array([ref.COUNTRY_TAX_RATE.get(c, 0.0) for c in country.tolist()])
    acct = won["account"][deal]
    tax_of = tax_rate[np.maximum(acct, 0)] if len(tax_rate) else np.zeros(len(deal))
    tax = np.round(amount * np.where(acct >= 0, tax_of, 0.0)).astype(np.int64)
    m = len(deal)
    # Refunds and credit notes: a few invoices are partly or fully reversed later (negative amounts).
    refunded = np.flatnonzero(rng.random(m) < 0.03)
    r_at = at[refunded] + rng.integers(5 * DAY, 40 * DAY, len(refunded))
    r_keep = r_at < end
    refunded, r_at = refunded[r_keep], r_at[r_keep]
    r_amount = -np.round(amount[refunded] * rng.uniform(0.2, 1.0, len(refunded))).astype(np.int64)
    total = m + len(refunded)
    src = np.concatenate((np.arange(m), refunded))
    table = Table("revenue_events")
    table.add("id", "int", np.arange(1, total + 1))
    table.add(
        "external_id",
        "str",
        [f"demo-inv-{i}" for i in range(1, m + 1)] + [f"demo-cn-{i}" for i in range(1, len(refunded) + 1)],
    )
    table.add("account_id", "int", np.where(acct[src] >= 0, acct[src] + 1, NULL))
    table.add("deal_id", "int", won["id"][deal][src])
    table.add("lead_id", "int", won["lead"][deal][src] + 1)
    table.add("product_id", "int", won["product"][deal][src] + 1)
    table.add("occurred_at", "ts", np.concatenate((at, r_at)))
    table.add("kind", "str", np.concatenate((kind, np.full(len(refunded), "refund", dtype=object))))
    table.add("amount_minor", "int", np.concatenate((amount, r_amount)))
    table.add("currency", "str", won["currency"][deal][src])
    table.add(
        "tax_minor",
        "int",
        np.concatenate((tax, np.round(r_amount * tax_of[refunded] * (acct[refunded] >= 0)).astype(np.int64))),
    )
    table.add(
        "period_start",
        "date",
        np.concatenate((np.where(length > 0, start_day, NULL), np.full(len(refunded), NULL))),
    )
    table.add(
        "period_end",
        "date",
        np.concatenate((np.where(length > 0, start_day + length - 1, NULL), np.full(len(refunded), NULL))),
    )
    table.add("reverses_id", "int", np.concatenate((np.full(m, NULL), refunded + 1)))
    table.add("recorded_at", "ts", np.concatenate((at, r_at)) + 60)
    return table, churn


def feedback(rng: np.random.Generator, won: dict[str, np.ndarray], churn: np.ndarray, *, end: int) -> Table:
    """Satisfaction scores (1-5) from customers; customers about to churn score lower."""
    first = np.unique(won["account"][won["account"] >= 0], return_index=True)[1]
    idx = np.flatnonzero(won["account"] >= 0)[first]
    count = rng.poisson(1.5, len(idx))
    row = np.repeat(idx, count)
    span = np.maximum(np.minimum(churn[row], end) - won["closed"][row], DAY)
    at = won["closed"][row] + (rng.random(len(row)) * span).astype(np.int64)
    keep = at < end
    row, at = row[keep], at[keep]
    churns = churn[row] < end
    score = np.clip(np.round(rng.normal(np.where(churns, 2.7, 4.1), 0.9)), 1, 5)
    comments = np.array(ref.FEEDBACK_COMMENTS, dtype=object)
    table = Table("customer_feedback")
    table.add("id", "int", np.arange(1, len(row) + 1))
    table.add("account_id", "int", won["account"][row] + 1)
    table.add("lead_id", "int", won["lead"][row] + 1)
    table.add("occurred_at", "ts", at)
    table.add("score", "obj", [f"{s:.2f}" for s in score.tolist()])
    table.add("scale_max", "int", np.full(len(row), 5))
    table.add(
        "comment",
        "str",
        np.where(rng.random(len(row)) < 0.4, comments[rng.integers(0, len(comments), len(row))], None),
    )
    return table


def quarters(start: int, end: int) -> list[tuple[int, int]]:
    """(first day, last day) of every calendar quarter (Taipei) overlapping the period, as day numbers."""
    first = date.fromordinal(date(1970, 1, 1).toordinal() + (start + OFFSET) // DAY)
    last = date.fromordinal(date(1970, 1, 1).toordinal() + (end + OFFSET) // DAY)
    out = []
    year, q = first.year, (first.month - 1) // 3
    while (year, q) <= (last.year, (last.month - 1) // 3):
        begin = date(year, 3 * q + 1, 1)
        nxt = date(year + (q == 3), 1 if q == 3 else 3 * q + 4, 1)
        epoch = date(1970, 1, 1).toordinal()
        out.append((begin.toordinal() - epoch, nxt.toordinal() - epoch - 1))
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return out


def quotas(won: dict[str, np.ndarray], staff: Staff, *, start: int, end: int) -> Table:
    """A quota per rep per quarter (set a little above what reps actually close), and per team."""
    qs = quarters(start, end)
    reps = len(staff.rep_ids)
    total = float(won["amount_twd"].sum()) if len(won["amount_twd"]) else 1_000_000.0
    per_rep = max(total / max(1, reps * len(qs)) * 1.15, 100_000)
    rows = []
    cap = INT4_MAX // 100 // 10_000 * 10_000  # amount columns are 32-bit integers in the store

    def amount(twd: float) -> int:
        return min(int(round(twd, -4)), cap) * 100

    for qi, (q0, q1) in enumerate(qs):
        growth = 0.8 + 0.4 * qi / max(1, len(qs) - 1)
        for r in range(reps):
            rows.append((staff.rep_ids[r], NULL, q0, q1, amount(per_rep * growth)))
        for team in np.unique(staff.rep_team):
            members = int((staff.rep_team == team).sum())
            rows.append((NULL, staff.team_ids[team], q0, q1, amount(per_rep * growth * members)))
    table = Table("quotas")
    table.add("id", "int", np.arange(1, len(rows) + 1))
    for i, name in enumerate(("user_id", "team_id", "period_start", "period_end", "amount_minor")):
        table.add(
            name,
            "date" if name.startswith("period") else "int",
            np.array([row[i] for row in rows], dtype=np.int64),
        )
    table.add("currency", "str", [ref.REPORTING_CURRENCY] * len(rows))
    return table


def goals(
    events: dict[str, np.ndarray], won: dict[str, np.ndarray], staff: Staff, *, start: int, end: int
) -> Table:
    """Shared goals for the current quarter, set from last quarter's actuals."""
    (p0, p1), (c0, c1) = quarters(start, end)[-2:]
    day = (events["at"] + OFFSET) // DAY
    in_prev = (day >= p0) & (day <= p1) & (events["implied"] == 0)
    mqls = int((in_prev & (events["to"] == 1)).sum())
    sqls = int((in_prev & (events["to"] == 3)).sum())
    won_day = (won["closed"] + OFFSET) // DAY
    revenue_twd = float(won["amount_twd"][(won_day >= p0) & (won_day <= p1)].sum())
    specs = (
        (
            "MQL 數量 MQL volume",
            "stage_count",
            "marketing",
            round(mqls * 1.1),
            "count",
            None,
            {"stage": "mql", "source_type": "inbound"},
            staff.marketing_id,
            1,
        ),
        (
            "SQL 數量 SQL volume",
            "stage_count",
            "joint",
            round(sqls * 1.1),
            "count",
            None,
            {"stage": "sql"},
            staff.manager_id,
            None,
        ),
        (
            "新簽營收 Won revenue",
            "won_amount",
            "sales",
            round(revenue_twd * 1.1, -3),
            "money",
            ref.REPORTING_CURRENCY,
            {},
            staff.manager_id,
            None,
        ),
        ("贏單率 Win rate", "win_rate", "sales", 0.32, "ratio", None, {}, staff.manager_id, None),
        (
            "SLA 達成率 SLA compliance",
            "sla_compliance",
            "sales",
            0.90,
            "ratio",
            None,
            {},
            staff.manager_id,
            None,
        ),
    )
    table = Table("goals")
    table.add("id", "int", np.arange(1, len(specs) + 1))
    table.add("name", "str", [s[0] for s in specs])
    table.add("metric", "str", [s[1] for s in specs])
    table.add("side", "str", [s[2] for s in specs])
    table.add("target", "obj", [f"{float(s[3]):.6f}" for s in specs])
    table.add("unit", "str", [s[4] for s in specs])
    table.add("currency", "str", [s[5] for s in specs])
    table.add("period_start", "date", np.full(len(specs), c0))
    table.add("period_end", "date", np.full(len(specs), c1))
    table.add("team_id", "int", np.array([NULL if s[8] is None else s[8] for s in specs]))
    table.add("owner_id", "int", np.array([s[7] for s in specs]))
    table.add("filters", "json", [s[6] for s in specs])
    table.add("created_at", "ts", np.full(len(specs), c0 * DAY - OFFSET))
    return table


def costs(staff: Staff, *, start: int, end: int) -> Table:
    """Monthly salaries per team and marketing tools and agency fees (for CAC)."""
    first = date.fromordinal(date(1970, 1, 1).toordinal() + (start + OFFSET) // DAY)
    last = date.fromordinal(date(1970, 1, 1).toordinal() + (end + OFFSET) // DAY)
    epoch = date(1970, 1, 1).toordinal()
    rows = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        begin = date(year, month, 1)
        nxt = date(year + (month == 12), 1 if month == 12 else month + 1, 1)
        b, e = begin.toordinal() - epoch, nxt.toordinal() - epoch - 1
        for t, team_id in enumerate(staff.team_ids.tolist()):
            members = int((staff.rep_team == t).sum())
            if members:
                rows.append(
                    (b, e, team_id, "salary", members * 98_000, f"{year}{month:02d}-t{team_id}-salary")
                )
        rows.append((b, e, 1, "salary", 2 * 85_000, f"{year}{month:02d}-t1-salary"))
        rows.append((b, e, 1, "tools", 60_000, f"{year}{month:02d}-t1-tools"))
        rows.append((b, e, 1, "agency", 150_000, f"{year}{month:02d}-t1-agency"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    table = Table("cost_entries")
    table.add("id", "int", np.arange(1, len(rows) + 1))
    table.add("period_start", "date", np.array([r[0] for r in rows]))
    table.add("period_end", "date", np.array([r[1] for r in rows]))
    table.add("team_id", "int", np.array([r[2] for r in rows]))
    table.add("kind", "str", [r[3] for r in rows])
    table.add("amount_minor", "int", np.array([r[4] * 100 for r in rows]))
    table.add("currency", "str", [ref.REPORTING_CURRENCY] * len(rows))
    table.add("external_key", "str", [f"demo-cost-{r[5]}" for r in rows])
    return table
