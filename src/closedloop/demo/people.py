"""Reference data of the demo workspace: regions, calendars, teams, users, products, site, campaigns, rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from closedloop.demo import reference as ref
from closedloop.demo.calendars import BusinessClock, exception_days, working_hours_json
from closedloop.demo.frame import DAY, NULL, Table

EPOCH_DAY = date(1970, 1, 1)


@dataclass
class Staff:
    """What the rest of the generator needs to know about teams and people."""

    rep_ids: np.ndarray  # user id per rep
    rep_team: np.ndarray  # team index (0-based) per rep
    rep_median_bh: np.ndarray
    rep_win: np.ndarray
    rep_accept: np.ndarray
    rep_language: list[str]
    team_ids: np.ndarray
    team_region: list[str | None]
    team_calendar: list[str]
    clocks: dict[str, BusinessClock]
    manager_id: int
    marketing_id: int
    logins: dict[str, str]  # role -> email


def day_number(day: date) -> int:
    return (day - EPOCH_DAY).days


def workspace_tables(*, start: int, end: int, password_hash: str) -> tuple[list[Table], Staff, list[tuple]]:
    """Regions, calendars (with holidays and make-up days), teams, users, products and the site.

    Returns the tables, the staff summary and updates to apply after the insert (none yet).
    """
    first = EPOCH_DAY + timedelta(days=start // DAY - 40)
    last = EPOCH_DAY + timedelta(days=end // DAY + 200)
    created = start - 30 * DAY
    regions = Table("regions")
    regions.add("id", "int", np.arange(1, len(ref.REGIONS) + 1))
    regions.add("code", "str", [r[0] for r in ref.REGIONS])
    regions.add("names", "json", [{"zh-TW": r[1], "zh-CN": r[2], "en": r[3]} for r in ref.REGIONS])

    calendars, days = Table("business_calendars"), Table("calendar_days")
    cal_rows, day_rows = [], []
    for i, (name, _, _, key, zone) in enumerate(ref.TEAMS):
        cal_rows.append((i + 1, f"{name} ({key})", zone, working_hours_json(key)))
        for day, kind, label in exception_days(key, first, last):
            day_rows.append((i + 1, day_number(day), kind, label))
    calendars.add("id", "int", np.array([r[0] for r in cal_rows]))
    calendars.add("name", "str", [r[1] for r in cal_rows])
    calendars.add("time_zone", "str", [r[2] for r in cal_rows])
    calendars.add("working_hours", "json", [r[3] for r in cal_rows])
    days.add("id", "int", np.arange(1, len(day_rows) + 1))
    days.add("calendar_id", "int", np.array([r[0] for r in day_rows]))
    days.add("day", "date", np.array([r[1] for r in day_rows]))
    days.add("kind", "str", [r[2] for r in day_rows])
    days.add("name", "str", [r[3] for r in day_rows])

    n_teams = len(ref.TEAMS)
    teams = Table("teams")
    teams.add("id", "int", np.arange(1, n_teams + 1))
    teams.add("name", "str", [t[0] for t in ref.TEAMS])
    teams.add("kind", "str", [t[1] for t in ref.TEAMS])
    teams.add("region", "str", [t[2] for t in ref.TEAMS])
    teams.add("calendar_id", "int", np.arange(1, n_teams + 1))
    teams.add("created_at", "ts", np.full(n_teams, created))

    people = [(local, name, role, team, lang, zone) for local, name, role, team, lang, zone in ref.STAFF]
    zones = {6: "Asia/Singapore", 4: "Asia/Shanghai", 5: "Asia/Shanghai"}
    for local, name, team, _, _, _, lang in ref.REPS:
        people.append((local, name, "sales", team, lang, zones.get(team, "Asia/Taipei")))
    n_users = len(people)
    users = Table("users")
    users.add("id", "int", np.arange(1, n_users + 1))
    users.add("email", "str", [f"{p[0]}@{ref.DEMO_DOMAIN}" for p in people])
    users.add("name", "str", [p[1] for p in people])
    users.add("role", "str", [p[2] for p in people])
    users.add("team_id", "int", np.array([p[3] + 1 for p in people]))
    users.add("password_hash", "str", [password_hash] * n_users)
    users.add("language", "str", [p[4] for p in people])
    users.add("time_zone", "str", [p[5] for p in people])
    users.add("is_active", "bool", np.ones(n_users, dtype=bool))
    users.add("capacity", "int", np.array([NULL if p[2] != "sales" else 400 for p in people]))
    users.add("failed_logins", "int", np.zeros(n_users, dtype=np.int64))
    users.add("created_at", "ts", np.full(n_users, created))

    staff_index = {p[0]: i + 1 for i, p in enumerate(people)}
    manager_id, marketing_id = staff_index["manager"], staff_index["marketing"]

    offset = 8 * 3600  # Taipei, Shanghai and Singapore are all UTC+8 without daylight saving
    clocks = {key: BusinessClock(key, first, last, offset) for key in ("TW", "CN", "SG")}
    first_rep = len(ref.STAFF) + 1
    staff = Staff(
        rep_ids=np.arange(first_rep, first_rep + len(ref.REPS)),
        rep_team=np.array([r[2] for r in ref.REPS]),
        rep_median_bh=np.array([r[3] for r in ref.REPS]),
        rep_win=np.array([r[4] for r in ref.REPS]),
        rep_accept=np.array([r[5] for r in ref.REPS]),
        rep_language=[r[6] for r in ref.REPS],
        team_ids=np.arange(1, n_teams + 1),
        team_region=[t[2] for t in ref.TEAMS],
        team_calendar=[t[3] for t in ref.TEAMS],
        clocks=clocks,
        manager_id=manager_id,
        marketing_id=marketing_id,
        logins={
            "admin": f"admin@{ref.DEMO_DOMAIN}",
            "manager": f"manager@{ref.DEMO_DOMAIN}",
            "marketing": f"marketing@{ref.DEMO_DOMAIN}",
            "sales": f"sales01@{ref.DEMO_DOMAIN}",
            "viewer": f"viewer@{ref.DEMO_DOMAIN}",
        },
    )

    products = Table("products")
    products.add("id", "int", np.arange(1, len(ref.PRODUCTS) + 1))
    products.add("external_id", "str", [f"demo-product-{i + 1}" for i in range(len(ref.PRODUCTS))])
    products.add("name", "str", [p[0] for p in ref.PRODUCTS])
    products.add("margin_pct", "obj", [p[3] for p in ref.PRODUCTS])
    products.add("list_price_minor", "int", np.array([p[2] * 100 for p in ref.PRODUCTS]))
    products.add("currency", "str", [ref.REPORTING_CURRENCY] * len(ref.PRODUCTS))

    sites = Table("sites")
    sites.add("id", "int", np.array([1]))
    sites.add("name", "str", ["closedloop demo website"])
    sites.add("public_key", "str", ["demo-site-public-key"])
    sites.add("origins", "json", [[ref.SITE_ORIGIN]])
    sites.add("is_active", "bool", np.array([True]))
    sites.add("created_at", "ts", np.array([created]))
    return [regions, calendars, days, teams, users, products, sites], staff, []


def campaign_table(*, start: int, end: int) -> Table:
    """Every campaign of reference.CAMPAIGNS, active over the whole demo period."""
    n = len(ref.CAMPAIGNS)
    first_day, last_day = start // DAY, end // DAY - 1
    table = Table("campaigns")
    table.add("id", "int", np.arange(1, n + 1))
    table.add("external_id", "str", [f"demo-campaign-{i + 1}" for i in range(n)])
    table.add("name", "str", [c[0] for c in ref.CAMPAIGNS])
    table.add("normalised_name", "str", [c[0].strip().lower() for c in ref.CAMPAIGNS])
    table.add("channel", "str", [c[1] for c in ref.CAMPAIGNS])
    table.add("utm_campaign", "str", [c[4] for c in ref.CAMPAIGNS])
    table.add("start_date", "date", np.full(n, first_day))
    table.add("end_date", "date", np.full(n, last_day))
    table.add(
        "budget_minor", "int", np.array([NULL if c[7] == 0 else c[7] * 100 * 2000 for c in ref.CAMPAIGNS])
    )
    table.add("currency", "str", [ref.REPORTING_CURRENCY] * n)
    table.add("created_at", "ts", np.full(n, start - 7 * DAY))
    return table


def exchange_rates(rng: np.random.Generator, *, start: int, end: int) -> Table:
    """A daily rate per currency from 60 days before the period to the anchor date (a random walk)."""
    first, last = start // DAY - 60, end // DAY
    days = np.arange(first, last + 1)
    cols: dict[str, list] = {"currency": [], "rate_date": [], "rate": []}
    for currency, base in ref.BASE_RATES.items():
        walk = np.exp(np.cumsum(rng.normal(0.0, 0.003, len(days))))
        walk /= walk.mean()
        cols["currency"] += [currency] * len(days)
        cols["rate_date"].append(days)
        cols["rate"].append(np.round(base * walk, 6))
    rates = np.concatenate(cols["rate"])
    table = Table("exchange_rates")
    table.add("id", "int", np.arange(1, len(rates) + 1))
    table.add("currency", "str", cols["currency"])
    table.add("rate_date", "date", np.concatenate(cols["rate_date"]))
    table.add("rate_to_reporting", "obj", [f"{r:.6f}" for r in rates.tolist()])
    return table


def rate_lookup(table: Table) -> dict[str, tuple[int, np.ndarray]]:
    """currency -> (first day, rates by day) for vectorised conversion."""
    currencies = table.columns["currency"][1]
    days = table.columns["rate_date"][1]
    rates = np.array([float(r) for r in table.columns["rate_to_reporting"][1]])
    out = {}
    for currency in ref.BASE_RATES:
        mask = np.array([c == currency for c in currencies])
        out[currency] = (int(days[mask][0]), rates[mask])
    return out
