"""The whole demo business from (leads, seed, anchor): tables in insertion order, reproducibly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np

from closedloop.demo import deals as deal_gen
from closedloop.demo import funnel, money, people, touches
from closedloop.demo import leads as lead_gen
from closedloop.demo import reference as ref
from closedloop.demo.frame import DAY, HOUR, NULL, Table

SCALES = {"s": 10_000, "m": 100_000, "l": 1_000_000}
TIME_ZONE = "Asia/Taipei"
STREAMS = (
    "people",
    "accounts",
    "leads",
    "identities",
    "touches",
    "funnel",
    "deals",
    "money",
    "spend",
    "rates",
)


@dataclass
class DemoData:
    """Tables in foreign-key order, updates to apply after inserting, and what to tell the user."""

    tables: list[Table]
    updates: list[tuple[str, int, str, int]]
    logins: dict[str, str]
    start: datetime
    end: datetime


def period(anchor: date) -> tuple[int, int]:
    """UTC seconds of [anchor - 730 days, anchor) in the reporting time zone (local midnights)."""
    end = datetime.combine(anchor, time(), tzinfo=ZoneInfo(TIME_ZONE)).astimezone(UTC)
    end_ts = int(end.timestamp())
    return end_ts - 730 * DAY, end_ts


def generate(
    *,
    leads: int,
    seed: int,
    anchor: date,
    password_hash: str,
    progress: Callable[[str], None] = lambda _: None,
) -> DemoData:
    """Generate every table. Same (leads, seed, anchor) -> same rows, whatever the machine."""
    streams = dict(
        zip(
            STREAMS,
            (
                np.random.Generator(np.random.PCG64(s))
                for s in np.random.SeedSequence(seed).spawn(len(STREAMS))
            ),
            strict=True,
        )
    )
    start, end = period(anchor)
    tables, staff, updates = people.workspace_tables(start=start, end=end, password_hash=password_hash)
    campaigns = people.campaign_table(start=start, end=end)
    rates_table = people.exchange_rates(streams["rates"], start=start, end=end)
    rates = people.rate_lookup(rates_table)
    progress("accounts")
    accounts = lead_gen.make_accounts(streams["accounts"], max(20, leads // 3))
    lead = lead_gen.make_leads(
        streams["leads"], leads, accounts, start=start, end=end, clock=staff.clocks["TW"]
    )
    progress("journeys")
    touch_table, visitors, first_touch = touches.journeys(streams["touches"], lead, start=start, end=end)
    spend = touches.campaign_spend(
        streams["spend"], lead, start=start, end=end, offset=staff.clocks["TW"].offset
    )
    progress("lifecycle")
    sim = funnel.Simulation(streams["funnel"], lead, staff)
    sim.run()
    deal_gen.add_expansions(streams["deals"], sim)
    result = deal_gen.build_deals(streams["deals"], sim, accounts, rates, end=end)
    events = _lifecycle_events(streams["funnel"], sim, end=end)
    handoffs = _handoffs(sim, end=end)
    activities = _activities(sim, result.activities, end=end)
    progress("revenue")
    revenue, churn = money.revenue(streams["money"], result.won, accounts.country, end=end)
    feedback = money.feedback(streams["money"], result.won, churn, end=end)
    quotas = money.quotas(result.won, staff, start=start, end=end)
    goals = money.goals(events["raw"], result.won, staff, start=start, end=end)
    costs = money.costs(staff, start=start, end=end)
    account_table = _accounts(accounts, lead, result, start=start)
    lead_table = _leads(streams["identities"], lead, accounts, sim, events, first_touch, touch_table, result)
    tables += [
        campaigns,
        rates_table,
        spend,
        costs,
        account_table,
        lead_table,
        visitors,
        touch_table,
        events["table"],
        handoffs,
        result.deals,
        result.stage_events,
        activities,
        revenue,
        feedback,
        quotas,
        goals,
    ]
    for table in tables:
        table.check()
    return DemoData(
        tables, updates, staff.logins, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    )


def _lifecycle_events(rng, sim: funnel.Simulation, *, end: int) -> dict:
    ev = sim.events.arrays()
    keep = ev["at"] < end
    order = np.flatnonzero(keep)[np.lexsort((ev["seq"][keep], ev["at"][keep], ev["lead"][keep]))]
    ev = {k: v[order] for k, v in ev.items()}
    n = len(order)
    # Recorded a little after it happened; implied events share their real event's instant.
    delay = rng.integers(5, 30 * 60, n)
    recorded = np.minimum(ev["at"] + delay, np.maximum(ev["at"], end - 1))
    group = np.concatenate(([True], (ev["lead"][1:] != ev["lead"][:-1]) | (ev["at"][1:] != ev["at"][:-1])))
    first_of_group = np.maximum.accumulate(np.where(group, np.arange(n), 0))
    recorded = recorded[first_of_group]
    # Ids in time order across leads, so the id order is also each lead's event order.
    by_time = np.lexsort((ev["seq"], ev["at"]))
    ids = np.empty(n, dtype=np.int64)
    ids[by_time] = np.arange(1, n + 1)
    table = Table("lifecycle_events")
    stages = np.array(funnel.STAGES, dtype=object)
    reasons = np.array(funnel.REASONS, dtype=object)
    table.add("id", "int", ids[by_time])
    table.add("lead_id", "int", ev["lead"][by_time] + 1)
    table.add(
        "from_stage", "str", np.where(ev["from"] >= 0, stages[np.maximum(ev["from"], 0)], None)[by_time]
    )
    table.add("to_stage", "str", stages[ev["to"]][by_time])
    table.add("occurred_at", "ts", ev["at"][by_time])
    table.add("recorded_at", "ts", recorded[by_time])
    table.add("by_user_id", "int", ev["by"][by_time])
    table.add("source", "str", np.array(funnel.SOURCES, dtype=object)[ev["source"]][by_time])
    table.add(
        "reason", "str", np.where(ev["reason"] >= 0, reasons[np.maximum(ev["reason"], 0)], None)[by_time]
    )
    table.add("implied", "bool", ev["implied"][by_time].astype(bool))
    last = np.flatnonzero(np.concatenate(((ev["lead"][1:] != ev["lead"][:-1]), [True])))
    stage = np.full(sim.leads.n, funnel.S["lead"])
    stage[ev["lead"][last]] = ev["to"][last]
    last_at = np.zeros(sim.leads.n, dtype=np.int64)
    last_at[ev["lead"][last]] = recorded[last]
    return {"table": table, "raw": ev, "stage": stage, "last_at": last_at}


def _handoffs(sim: funnel.Simulation, *, end: int) -> Table:
    h = sim.handoffs.arrays()
    keep = h["assigned"] < end
    order = np.flatnonzero(keep)[np.argsort(h["assigned"][keep], kind="stable")]
    h = {k: v[order] for k, v in h.items()}
    n = len(order)
    responded = h["first_response"] < end
    decided = h["decided"] < end
    accepted = decided & h["accepted"]
    rejected = decided & ~h["accepted"]
    due_passed = h["due"] < end
    sla_met = np.where(
        responded, h["business_hours"] <= funnel.SLA_RESPONSE_HOURS + 1e-9, np.where(due_passed, False, None)
    )
    breached = np.where(responded, h["business_hours"] > funnel.SLA_RESPONSE_HOURS + 1e-9, due_passed)
    reasons = np.array(funnel.REASONS, dtype=object)
    table = Table("handoffs")
    table.add("id", "int", np.arange(1, n + 1))
    table.add("lead_id", "int", h["lead"] + 1)
    table.add("owner_id", "int", h["owner"])
    table.add("team_id", "int", h["team"])
    table.add("assigned_at", "ts", h["assigned"])
    table.add("recorded_at", "ts", h["assigned"])
    table.add("first_response_at", "ts", np.where(responded, h["first_response"], NULL))
    table.add("accepted_at", "ts", np.where(accepted, h["decided"], NULL))
    table.add("rejected_at", "ts", np.where(rejected, h["decided"], NULL))
    table.add("rejection_reason", "str", np.where(rejected, reasons[np.maximum(h["reason"], 0)], None))
    other = rejected & (h["reason"] == funnel.R["other"])
    table.add(
        "rejection_text",
        "str",
        np.where(
            other,
            np.array(ref.OTHER_REASON_TEXTS, dtype=object)[h["lead"] % len(ref.OTHER_REASON_TEXTS)],
            None,
        ),
    )
    table.add(
        "status", "str", np.where(accepted, "accepted", np.where(rejected, "rejected", "open")).astype(object)
    )
    table.add("sla_due_at", "ts", h["due"])
    table.add("accept_due_at", "ts", h["accept_due"])
    table.add("attempts_due_at", "ts", h["assigned"] + funnel.SLA_ATTEMPT_DAYS * DAY)
    table.add("attempts_required", "int", np.full(n, funnel.SLA_ATTEMPTS))
    table.add(
        "response_business_hours", "float", np.where(responded, np.round(h["business_hours"], 4), np.nan)
    )
    table.add("sla_met", "obj", sla_met.tolist())
    table.add("breached_at", "ts", np.where(breached & due_passed, h["due"], NULL))
    return table


def _activities(sim: funnel.Simulation, deal_acts: dict, *, end: int) -> Table:
    a = sim.activities.arrays()
    lead = np.concatenate((a["lead"], deal_acts["lead"]))
    deal = np.concatenate((a["deal"], deal_acts["deal"]))
    user = np.concatenate((a["user"], deal_acts["user"]))
    kind = np.concatenate((a["type"].astype(object), deal_acts["type"]))
    occurred = np.concatenate((a["occurred"], deal_acts["occurred"]))
    recorded = np.concatenate((a["recorded"], deal_acts["recorded"]))
    keep = recorded < end
    order = np.flatnonzero(keep)[np.lexsort((recorded[keep], occurred[keep]))]
    n = len(order)
    table = Table("activities")
    table.add("id", "int", np.arange(1, n + 1))
    table.add("lead_id", "int", np.where(lead[order] >= 0, lead[order] + 1, NULL))
    table.add("deal_id", "int", deal[order])
    table.add("user_id", "int", user[order])
    table.add("type", "str", kind[order])
    table.add("occurred_at", "ts", occurred[order])
    table.add("recorded_at", "ts", recorded[order])
    table.add("notes", "str", [None] * n)
    return table


def _accounts(
    accounts: lead_gen.Accounts, leads: lead_gen.Leads, result: deal_gen.DealResult, *, start: int
) -> Table:
    first_lead = np.full(accounts.n, np.iinfo(np.int64).max)
    has = leads.account >= 0
    np.minimum.at(first_lead, leads.account[has], leads.created[has])
    created = np.where(first_lead == np.iinfo(np.int64).max, start - 30 * DAY, first_lead - HOUR)
    table = Table("accounts")
    table.add("id", "int", np.arange(1, accounts.n + 1))
    table.add("external_id", "str", [f"demo-account-{i}" for i in range(1, accounts.n + 1)])
    table.add("name", "str", accounts.name)
    table.add("normalised_name", "str", [name.lower() for name in accounts.name])
    table.add("tax_id", "str", accounts.tax_id)
    table.add("domain", "str", accounts.domain)
    table.add("industry", "str", np.array([i[0] for i in ref.INDUSTRIES], dtype=object)[accounts.industry])
    table.add("company_size", "str", np.array([s[0] for s in ref.COMPANY_SIZES], dtype=object)[accounts.size])
    table.add("employees", "int", accounts.employees)
    table.add("region", "str", np.array([r[0] for r in ref.REGIONS], dtype=object)[accounts.region])
    table.add("country", "str", accounts.country.astype(object))
    table.add("owner_id", "int", result.account_owner)
    table.add("became_customer_at", "ts", result.became_customer)
    table.add("custom", "json", [{}] * accounts.n)
    table.add("created_at", "ts", created)
    return table


def _leads(
    rng,
    leads: lead_gen.Leads,
    accounts,
    sim: funnel.Simulation,
    events: dict,
    first_touch,
    touch_table: Table,
    result,
) -> Table:
    n = leads.n
    ident = lead_gen.identities(rng, leads, accounts)
    became = np.where(leads.account >= 0, result.became_customer[np.maximum(leads.account, 0)], NULL)
    lead_type = np.where(
        (became != NULL) & (became < leads.created) & (leads.lead_type == "new_customer"),
        "existing_customer",
        leads.lead_type,
    )
    stage = events["stage"]
    reached_mql = np.zeros(n, dtype=bool)
    raw = events["raw"]
    reached_mql[raw["lead"][raw["to"] == funnel.S["mql"]]] = True
    score = np.clip(
        np.round(35 * np.log1p(leads.quality) + 30 * reached_mql + rng.normal(0, 8, n)), 0, 100
    ).astype(np.int64)
    band = np.where(score >= 80, "A", np.where(score >= 60, "B", np.where(score >= 40, "C", "D"))).astype(
        object
    )
    has_touch = first_touch >= 0
    ft = np.maximum(first_touch, 0)

    def first(column: str):
        kind, values = touch_table.columns[column]
        values = np.asarray(values, dtype=object if kind == "str" else np.int64)
        return np.where(has_touch, values[ft], None if kind == "str" else NULL)

    owned = sim.owned
    updated = np.maximum(leads.created + 2, events["last_at"])
    table = Table("leads")
    table.add("id", "int", np.arange(1, n + 1))
    for name in (
        "email",
        "phone",
        "line_user_id",
        "wechat_unionid",
        "first_name",
        "last_name",
        "name",
        "title",
    ):
        table.add(name, "str", ident[name])
    table.add("account_id", "int", np.where(leads.account >= 0, leads.account + 1, NULL))
    table.add(
        "industry",
        "str",
        np.where(
            leads.industry >= 0,
            np.array([i[0] for i in ref.INDUSTRIES], dtype=object)[np.maximum(leads.industry, 0)],
            None,
        ),
    )
    table.add(
        "company_size",
        "str",
        np.where(
            leads.size >= 0,
            np.array([s[0] for s in ref.COMPANY_SIZES], dtype=object)[np.maximum(leads.size, 0)],
            None,
        ),
    )
    table.add("region", "str", np.array([r[0] for r in ref.REGIONS], dtype=object)[leads.region])
    table.add("country", "str", leads.country.astype(object))
    table.add("lead_type", "str", lead_type.astype(object))
    table.add("source_type", "str", np.array(lead_gen.SOURCE_TYPES, dtype=object)[leads.source])
    table.add("owner_id", "int", np.where(owned, sim.staff.rep_ids[sim.rep], NULL))
    table.add("team_id", "int", np.where(owned, sim.staff.team_ids[sim.team], NULL))
    table.add("stage", "str", np.array(funnel.STAGES, dtype=object)[stage])
    table.add("score", "int", score)
    table.add("score_band", "str", band)
    table.add("is_spam", "bool", sim.spam)
    table.add("tags", "json", [[]] * n)
    table.add("custom", "json", [{}] * n)
    table.add("first_touch_at", "ts", first("occurred_at"))
    table.add("first_channel", "str", first("channel"))
    for col in ("utm_source", "utm_medium", "utm_campaign", "utm_content"):
        table.add(f"first_{col}", "str", first(col))
    table.add("first_campaign_id", "int", first("campaign_id"))
    table.add("first_landing_page", "str", first("landing_page"))
    table.add("created_at", "ts", leads.created)
    table.add("recorded_at", "ts", leads.created + 2)
    table.add("updated_at", "ts", updated)
    return table
