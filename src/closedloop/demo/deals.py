"""Deals from the simulation: products, amounts in local currencies, stage events, expansion deals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from closedloop.demo import reference as ref
from closedloop.demo.frame import DAY, HOUR, NULL, Table, pick
from closedloop.demo.funnel import Simulation
from closedloop.demo.leads import Accounts

PIPELINE = ("initial_contact", "needs_analysis", "proposal", "negotiation", "won", "lost")
# Product mix per company size (rows: 1-10 ... 1001+, unknown), columns: reference.PRODUCTS.
PRODUCT_MIX = np.array(
    [
        [0.85, 0.15, 0.0, 0.0, 0.0],
        [0.45, 0.5, 0.0, 0.0, 0.05],
        [0.1, 0.6, 0.15, 0.05, 0.1],
        [0.0, 0.4, 0.45, 0.1, 0.05],
        [0.0, 0.1, 0.7, 0.2, 0.0],
        [0.9, 0.1, 0.0, 0.0, 0.0],
    ]
)


@dataclass
class DealResult:
    deals: Table
    stage_events: Table
    activities: dict[str, np.ndarray]
    won: dict[str, np.ndarray]  # kept won deals: id, account, lead, product, closed, amount_minor, currency
    became_customer: np.ndarray  # per account, NULL if never
    account_owner: np.ndarray  # per account, NULL if none


def add_expansions(rng: np.random.Generator, sim: Simulation) -> None:
    """Upsell and renewal deals on accounts that became customers (they do not move any lead)."""
    d = sim.deals.arrays()
    times = np.concatenate(sim.deals.cols["stage_times"])
    closed = times[np.arange(len(d["lead"])), d["last_stage"] + 1]
    account = sim.leads.account[d["lead"]]
    won = np.flatnonzero(d["won"] & (account >= 0))
    order = won[np.lexsort((closed[won], account[won]))]
    first = (
        order[np.concatenate(([True], account[order][1:] != account[order][:-1]))] if len(order) else order
    )
    chosen = first[rng.random(len(first)) < 0.35]
    n = len(chosen)
    lead = d["lead"][chosen]
    created = closed[chosen] + rng.lognormal(np.log(150 * DAY), 0.5, n).astype(np.int64)
    won_x = rng.random(n) < 0.55
    durations = (np.array([5, 7, 9, 6]) * DAY * rng.lognormal(0, 0.5, (n, 4))).astype(np.int64)
    stage_times = created[:, None] + np.concatenate(
        (np.zeros((n, 1), dtype=np.int64), np.cumsum(durations, axis=1)), axis=1
    )
    last_stage = np.where(won_x, 3, pick(rng, n, [0.2, 0.3, 0.3, 0.2]))
    sim.deals.add(
        lead=lead,
        created=created,
        won=won_x,
        last_stage=last_stage,
        expansion=True,
        lost_reason=pick(rng, n, [w for _, w in ref.LOST_REASONS]),
    )
    sim.deals.cols["stage_times"].append(stage_times)


def build_deals(rng, sim: Simulation, accounts: Accounts, rates, *, end: int) -> DealResult:
    """The deals and deal_stage_events tables, cut at the end of the period."""
    d = sim.deals.arrays()
    times = np.concatenate(sim.deals.cols["stage_times"])
    keep = d["created"] < end
    order = np.flatnonzero(keep)[np.argsort(d["created"][keep], kind="stable")]
    d = {k: v[order] for k, v in d.items()}
    times = times[order]
    n = len(order)
    ids = np.arange(1, n + 1)
    lead = d["lead"]
    leads = sim.leads
    account = leads.account[lead]
    size = leads.size[lead]
    # Products and amounts (TWD), converted to the account's currency at creation.
    mix = PRODUCT_MIX[np.where(size >= 0, size, 5)]
    cum = np.cumsum(mix, axis=1)
    product = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, len(ref.PRODUCTS) - 1)
    product = np.where(d["expansion"], np.where(size >= 3, 2, 4), product)
    price = np.array([p[2] for p in ref.PRODUCTS], dtype=float)[product]
    industry_factor = np.where(
        leads.industry[lead] >= 0,
        np.array([i[2] for i in ref.INDUSTRIES])[np.maximum(leads.industry[lead], 0)],
        0.8,
    )
    amount_twd = np.round(price * industry_factor * rng.lognormal(0, 0.45, n), -3).clip(5000, 15_000_000)
    currency = np.array([ref.COUNTRY_CURRENCY[c] for c in leads.country[lead].tolist()], dtype=object)
    day = d["created"] // DAY
    rate = np.ones(n)
    for code, (first_day, series) in rates.items():
        m = currency == code
        rate[m] = series[np.clip(day[m] - first_day, 0, len(series) - 1)]
    amount_major = np.maximum(np.round(amount_twd / rate, -2), 100)
    proposal_minor = (amount_major * 100).astype(np.int64)
    final_minor = (np.round(amount_major * rng.uniform(0.85, 1.0, n), 0) * 100).astype(np.int64)

    # Stage events: stages 0..last_stage, then won or lost; only those before the end are kept.
    k = d["last_stage"]
    n_events = k + 2
    deal_idx = np.repeat(np.arange(n), n_events)
    step = np.arange(len(deal_idx)) - np.repeat(np.cumsum(n_events) - n_events, n_events)
    final = step == k[deal_idx] + 1
    to_stage = np.where(final, np.where(d["won"][deal_idx], 4, 5), step)
    at = times[deal_idx, step]
    kept = at < end
    # Expected close dates: set at creation; a deal running late gets a later date (slipped).
    expected = (d["created"] + (45 * DAY * np.where(size >= 3, 1.5, 1.0)).astype(np.int64)) // DAY
    actual_close = times[np.arange(n), k + 1] // DAY
    late = actual_close > expected + 7
    new_expected = np.where(late, actual_close + rng.integers(0, 10, n), expected)
    event_expected = np.where(
        late[deal_idx] & (at // DAY > expected[deal_idx]), new_expected[deal_idx], expected[deal_idx]
    )
    event_amount = np.where(to_stage >= 3, final_minor[deal_idx], proposal_minor[deal_idx])
    owner = sim.staff.rep_ids[sim.rep[lead]]
    ev_order = np.flatnonzero(kept)[np.argsort(at[kept], kind="stable")]
    events = Table("deal_stage_events")
    events.add("id", "int", np.arange(1, len(ev_order) + 1))
    events.add("deal_id", "int", deal_idx[ev_order] + 1)
    events.add(
        "from_stage",
        "str",
        np.array([None, *PIPELINE[:4]], dtype=object)[
            np.where(step[ev_order] == 0, 0, np.minimum(step[ev_order], k[deal_idx[ev_order]] + 1))
        ],
    )
    events.add("to_stage", "str", np.array(PIPELINE, dtype=object)[to_stage[ev_order]])
    events.add("occurred_at", "ts", at[ev_order])
    events.add(
        "recorded_at",
        "ts",
        np.minimum(
            at[ev_order] + rng.integers(60, 4 * HOUR, len(ev_order)), np.maximum(at[ev_order], end - 1)
        ),
    )
    events.add("by_user_id", "int", owner[deal_idx[ev_order]])
    events.add("amount_minor", "int", event_amount[ev_order])
    events.add("expected_close_date", "date", event_expected[ev_order])
    events.add("source", "str", ["person"] * len(ev_order))

    # The deal's state is that of its last kept event.
    last_kept = np.full(n, -1)
    np.maximum.at(last_kept, deal_idx[kept], np.flatnonzero(kept))
    state = to_stage[last_kept]
    status = np.where(state == 4, "won", np.where(state == 5, "lost", "open")).astype(object)
    closed_at = np.where(state >= 4, at[last_kept], NULL)

    # Activities on deals (meetings, calls), feeding last_activity_at.
    per = 1 + rng.poisson(2.0, n)
    a_deal = np.repeat(np.arange(n), per)
    span = np.maximum(np.where(closed_at != NULL, closed_at, end) - d["created"], HOUR)[a_deal]
    a_at = d["created"][a_deal] + (rng.random(len(a_deal)) * span).astype(np.int64)
    a_rec = a_at + rng.integers(300, 2 * HOUR, len(a_deal))
    a_keep = a_rec < end
    activities = {
        "lead": lead[a_deal][a_keep],
        "deal": a_deal[a_keep] + 1,
        "user": owner[a_deal][a_keep],
        "type": np.array(["meeting", "call", "email"], dtype=object)[rng.integers(0, 3, len(a_deal))][a_keep],
        "occurred": a_at[a_keep],
        "recorded": a_rec[a_keep],
    }
    last_activity = np.full(n, NULL)
    np.maximum.at(last_activity, activities["deal"] - 1, activities["occurred"])

    # Customers: an account's first won deal makes it a customer; later deals are expansion.
    is_won = status == "won"
    became = np.full(accounts.n, np.iinfo(np.int64).max)
    np.minimum.at(became, account[is_won & (account >= 0)], closed_at[is_won & (account >= 0)])
    became = np.where(became == np.iinfo(np.int64).max, NULL, became)
    acc_became = np.where(account >= 0, became[np.maximum(account, 0)], NULL)
    expansion = d["expansion"] | ((acc_became != NULL) & (acc_became < d["created"]))
    account_owner = np.full(accounts.n, NULL)
    has_acc = account >= 0
    account_owner[account[has_acc][::-1]] = owner[has_acc][::-1]

    lost_codes = np.array([c for c, _ in ref.LOST_REASONS], dtype=object)
    lost_reason = np.where(status == "lost", lost_codes[d["lost_reason"]], None)
    lost_text = np.where(
        (status == "lost") & (lost_reason == "other"),
        np.array(ref.LOST_TEXTS, dtype=object)[rng.integers(0, len(ref.LOST_TEXTS), n)],
        None,
    )
    names = [
        f"{accounts.name[a] if a >= 0 else 'Lead ' + str(ld + 1)} - {ref.PRODUCTS[p][0]}"
        for a, ld, p in zip(account.tolist(), lead.tolist(), product.tolist(), strict=True)
    ]
    deals = Table("deals")
    deals.add("id", "int", ids)
    deals.add("external_id", "str", [f"demo-deal-{i}" for i in ids.tolist()])
    deals.add("lead_id", "int", lead + 1)
    deals.add("account_id", "int", np.where(account >= 0, account + 1, NULL))
    deals.add("name", "str", names)
    deals.add("stage", "str", np.array(PIPELINE, dtype=object)[state])
    deals.add("status", "str", status)
    deals.add("amount_minor", "int", event_amount[last_kept])
    deals.add("currency", "str", currency)
    deals.add("product_id", "int", product + 1)
    deals.add("owner_id", "int", owner)
    deals.add("team_id", "int", sim.staff.team_ids[sim.team[lead]])
    deals.add("is_expansion", "bool", expansion)
    deals.add("expected_close_date", "date", event_expected[last_kept])
    deals.add("created_at", "ts", d["created"])
    deals.add("closed_at", "ts", closed_at)
    deals.add("lost_reason", "str", lost_reason)
    deals.add("lost_reason_text", "str", lost_text)
    deals.add("last_activity_at", "ts", last_activity)
    deals.add("version", "int", 1 + (last_kept - (np.cumsum(n_events) - n_events)))
    deals.add("updated_at", "ts", at[last_kept])
    won = {
        "id": ids[is_won],
        "account": account[is_won],
        "lead": lead[is_won],
        "product": product[is_won],
        "closed": closed_at[is_won],
        "amount_minor": event_amount[last_kept][is_won],
        "currency": currency[is_won],
        "quality": leads.quality[lead[is_won]],
        "owner": owner[is_won],
        "amount_twd": amount_twd[is_won],
    }
    return DealResult(deals, events, activities, won, became, account_owner)
