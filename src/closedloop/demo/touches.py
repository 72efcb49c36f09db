"""Multi-touch journeys: anonymous visits, identification, email nurture; visitors and campaign spend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from closedloop.demo import reference as ref
from closedloop.demo.frame import DAY, HOUR, NULL, Table, pick, random_tokens
from closedloop.demo.leads import CHANNEL_NAMES, REGION_GROUP, Leads, _campaigns

TYPES = (
    "page_view",
    "ad_click",
    "form_submit",
    "email_send",
    "email_open",
    "email_click",
    "event",
    "webinar",
    "line_message",
    "wechat_message",
)
T = {name: i for i, name in enumerate(TYPES)}
CH = {name: i for i, name in enumerate(CHANNEL_NAMES)}
PAID = (CH["Paid Search"], CH["Paid Social"], CH["Display"])
CAMPAIGN_INDEX = {c[4]: i for i, c in enumerate(ref.CAMPAIGNS)}


@dataclass
class Parts:
    """Touch rows under construction (parallel arrays)."""

    lead: list[np.ndarray]
    visitor: list[np.ndarray]
    at: list[np.ndarray]
    type: list[np.ndarray]
    channel: list[np.ndarray]
    campaign: list[np.ndarray]

    def add(self, lead, visitor, at, type_, channel, campaign) -> None:
        n = len(at)
        for target, values in (
            (self.lead, lead),
            (self.visitor, visitor),
            (self.at, at),
            (self.type, type_),
            (self.channel, channel),
            (self.campaign, campaign),
        ):
            target.append(np.broadcast_to(np.asarray(values, dtype=np.int64), (n,)).copy())


def journeys(rng: np.random.Generator, leads: Leads, *, start: int, end: int, visitor_share: float = 0.6):
    """Touchpoint and visitor tables, and each lead's first touch (index into the touch table, -1 none)."""
    n = leads.n
    idx = np.arange(n)
    marketing = leads.source != 1
    group = np.array([REGION_GROUP[r[0]] for r in ref.REGIONS])[leads.region]
    has_visitor = marketing.copy()
    visitor_of = np.where(has_visitor, np.cumsum(has_visitor) - 1, -1)
    parts = Parts([], [], [], [], [], [])

    # Anonymous touches before identification; the earliest one is the acquisition touch.
    pre_mean = np.array([c[3] for c in ref.CHANNELS])[np.maximum(leads.channel, 0)]
    k_pre = np.where(marketing, rng.poisson(pre_mean), 0)
    owner = np.repeat(idx, k_pre)
    position = np.arange(len(owner)) - np.repeat(np.cumsum(k_pre) - k_pre, k_pre)  # 0 = closest to creation
    gaps = (rng.lognormal(np.log(1.5 * DAY), 1.0, len(owner))).astype(np.int64)
    cum = np.cumsum(gaps)
    group_start = np.repeat(np.cumsum(k_pre) - k_pre, k_pre)
    before = cum - np.concatenate(([0], cum))[group_start]
    at = leads.created[owner] - before
    # Journeys of the first leads would start before the period: squeeze them into it instead.
    early = at < start
    at[early] = start + ((leads.created[owner][early] - start) * rng.random(int(early.sum()))).astype(
        np.int64
    )
    earliest = position == k_pre[owner] - 1
    other_channel = pick(rng, len(owner), [c[1] for c in ref.CHANNELS])
    same = earliest | (rng.random(len(owner)) < 0.35)
    channel = np.where(same, leads.channel[owner], other_channel)
    campaign = np.where(same, leads.campaign[owner], _campaigns(rng, channel, group[owner]))
    type_ = np.where(np.isin(channel, PAID), T["ad_click"], T["page_view"])
    parts.add(owner, visitor_of[owner], at, type_, channel, campaign)

    # Identification: a form submit (a badge scan at events, a chat on LINE/WeChat).
    who = idx[marketing]
    keep = (k_pre[who] == 0) | (rng.random(len(who)) < 0.6)
    alt = np.array([CH["Direct"], CH["Organic Search"], CH["Email"]])[pick(rng, len(who), [0.5, 0.35, 0.15])]
    channel = np.where(keep, leads.channel[who], alt)
    alt_campaign = np.where(alt == CH["Email"], CAMPAIGN_INDEX["newsletter_monthly"], -1)
    campaign = np.where(keep, leads.campaign[who], alt_campaign)
    type_ = np.full(len(who), T["form_submit"])
    type_ = np.where(
        channel == CH["Events"], np.where(rng.random(len(who)) < 0.5, T["event"], T["webinar"]), type_
    )
    chat = np.where(group[who] == 1, T["wechat_message"], T["line_message"])
    type_ = np.where((channel == CH["Messaging"]) & (rng.random(len(who)) < 0.5), chat, type_)
    parts.add(who, visitor_of[who], leads.created[who], type_, channel, campaign)

    # Return visits by the (now known) visitor.
    k_pv = np.where(marketing, rng.poisson(1.2, n), 0)
    owner = np.repeat(idx, k_pv)
    at = leads.created[owner] + rng.integers(HOUR, 120 * DAY, len(owner))
    channel = np.array([CH["Direct"], CH["Organic Search"], CH["Paid Search"]])[
        pick(rng, len(owner), [0.5, 0.35, 0.15])
    ]
    campaign = np.where(channel == CH["Paid Search"], CAMPAIGN_INDEX["gs_brand_tw"], -1)
    parts.add(
        owner,
        visitor_of[owner],
        at,
        np.where(channel == CH["Paid Search"], T["ad_click"], T["page_view"]),
        channel,
        campaign,
    )

    # Email nurture: sends, some opens, fewer clicks.
    k_mail = np.where(marketing, rng.poisson(4.5, n), 0)  # sales-sourced leads get no nurture
    owner = np.repeat(idx, k_mail)
    nth = np.arange(len(owner)) - np.repeat(np.cumsum(k_mail) - k_mail, k_mail)
    sent = leads.created[owner] + DAY + nth * 12 * DAY + rng.integers(0, 3 * DAY, len(owner))
    mail_campaign = np.array(
        [CAMPAIGN_INDEX[c] for c in ("nurture_new_leads", "newsletter_monthly", "launch_edm")]
    )
    campaign = mail_campaign[pick(rng, len(owner), [0.6, 0.3, 0.1])]
    email = CH["Email"]
    parts.add(owner, -1, sent, T["email_send"], email, campaign)
    opened = rng.random(len(owner)) < 0.35
    open_at = sent + rng.lognormal(np.log(4 * HOUR), 1.0, len(owner)).astype(np.int64)
    parts.add(owner[opened], -1, open_at[opened], T["email_open"], email, campaign[opened])
    clicked = opened & (rng.random(len(owner)) < 0.3)
    parts.add(owner[clicked], -1, open_at[clicked] + 60, T["email_click"], email, campaign[clicked])

    # Visitors who never identify.
    n_anon = int(n * visitor_share)
    k_anon = 1 + rng.poisson(1.0, n_anon)
    anon_visitor = int(has_visitor.sum()) + np.repeat(np.arange(n_anon), k_anon)
    first_seen = rng.integers(start, end, n_anon)
    at = first_seen[anon_visitor - int(has_visitor.sum())] + (
        np.arange(len(anon_visitor)) - np.repeat(np.cumsum(k_anon) - k_anon, k_anon)
    ) * rng.integers(HOUR, 5 * DAY, len(anon_visitor))
    channel = pick(rng, len(anon_visitor), [c[1] for c in ref.CHANNELS])
    campaign = _campaigns(rng, channel, pick(rng, len(anon_visitor), [0.6, 0.2, 0.2]))
    parts.add(
        -1,
        anon_visitor,
        at,
        np.where(np.isin(channel, PAID), T["ad_click"], T["page_view"]),
        channel,
        campaign,
    )

    return _assemble(rng, parts, leads, visitor_of, n_anon, first_seen, end=end)


def _assemble(rng, parts: Parts, leads: Leads, visitor_of, n_anon, anon_first_seen, *, end: int):
    lead = np.concatenate(parts.lead)
    visitor = np.concatenate(parts.visitor)
    at = np.concatenate(parts.at)
    type_ = np.concatenate(parts.type)
    channel = np.concatenate(parts.channel)
    campaign = np.concatenate(parts.campaign)
    keep = at < end
    order = np.lexsort((lead, at))[keep[np.lexsort((lead, at))]]
    lead, visitor, at, type_, channel, campaign = (
        a[order] for a in (lead, visitor, at, type_, channel, campaign)
    )
    m = len(at)
    ids = np.arange(1, m + 1)

    camp = np.maximum(campaign, 0)
    c_source = np.array([c[2] for c in ref.CAMPAIGNS], dtype=object)
    c_medium = np.array([c[3] for c in ref.CAMPAIGNS], dtype=object)
    c_name = np.array([c[4] for c in ref.CAMPAIGNS], dtype=object)
    has_campaign = campaign >= 0
    utm_source = np.where(has_campaign, c_source[camp], None)
    utm_medium = np.where(has_campaign, c_medium[camp], None)
    utm_campaign = np.where(has_campaign, c_name[camp], None)
    # utm_content: one of the campaign's ad variants.
    counts = np.array([len(c[5]) for c in ref.CAMPAIGNS])
    flat = np.array([content for c in ref.CAMPAIGNS for content in c[5]], dtype=object)
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    variant = offsets[camp] + (rng.random(m) * counts[camp]).astype(np.int64)
    utm_content = np.where(has_campaign, flat[variant], None)
    organic = channel == CH["Organic Search"]
    o_names = np.array([s for s, _ in ref.ORGANIC_SEARCH_SOURCES], dtype=object)
    o_source = o_names[pick(rng, m, [w for _, w in ref.ORGANIC_SEARCH_SOURCES])]
    utm_source = np.where(organic, o_source, utm_source)
    utm_medium = np.where(organic, "organic", utm_medium)
    utm_term = np.where(has_campaign & (channel == CH["Paid Search"]), utm_content, None)

    web = visitor >= 0
    known = {source: url for source, url in ref.REFERRERS.items()}
    referrer = np.full(m, None, dtype=object)
    for source, url in known.items():
        referrer[utm_source == source] = url
    referrer = np.where(web & (channel != CH["Direct"]) & (channel != CH["Email"]), referrer, None)
    pages = np.array([ref.SITE_ORIGIN + p for p in ref.LANDING_PAGES], dtype=object)
    lp_campaign = np.array([f"{ref.SITE_ORIGIN}/lp/{c[4]}" for c in ref.CAMPAIGNS], dtype=object)
    landing = np.where(has_campaign, lp_campaign[camp], pages[rng.integers(0, len(pages), m)])
    landing = np.where(web | (type_ == T["email_click"]), landing, None)

    table = Table("touchpoints")
    table.add("id", "int", ids)
    table.add("event_id", "str", np.where(web, np.char.add("demo-", ids.astype(str)).astype(object), None))
    table.add("site_id", "int", np.where(web, 1, NULL))
    table.add("lead_id", "int", np.where(lead >= 0, lead + 1, NULL))
    table.add("visitor_id", "int", np.where(visitor >= 0, visitor + 1, NULL))
    table.add("occurred_at", "ts", at)
    table.add("recorded_at", "ts", np.minimum(at + rng.integers(1, 30, m), np.maximum(at, end - 1)))
    table.add("type", "str", np.array(TYPES, dtype=object)[type_])
    for name, values in (
        ("utm_source", utm_source),
        ("utm_medium", utm_medium),
        ("utm_campaign", utm_campaign),
        ("utm_content", utm_content),
        ("utm_term", utm_term),
    ):
        table.add(name, "str", values)
    clicks = {
        field: np.full(m, None, dtype=object)
        for field in ("gclid", "fbclid", "msclkid", "li_fat_id", "line_click_id")
    }
    clickable = ((type_ == T["ad_click"]) | (channel == CH["Messaging"])) & web
    tokens = np.full(m, None, dtype=object)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    tokens[clickable] = random_tokens(rng, int(clickable.sum()), 40, alphabet).astype(object)
    for source, field in ref.CLICK_ID_BY_SOURCE.items():
        mask = clickable & (utm_source == source)
        prefix = {
            "gclid": "Cj0KCQiA",
            "fbclid": "IwAR",
            "msclkid": "",
            "li_fat_id": "",
            "line_click_id": "lc_",
        }[field]
        clicks[field][mask] = prefix + tokens[mask]
    for field, values in clicks.items():
        table.add(field, "str", values)
    table.add("landing_page", "str", landing)
    table.add("referrer", "str", referrer)
    table.add("channel", "str", np.array(CHANNEL_NAMES, dtype=object)[channel])
    table.add("channel_explicit", "bool", np.zeros(m, dtype=bool))
    table.add("campaign_id", "int", np.where(has_campaign, campaign + 1, NULL))

    # Visitors: one per marketing-sourced lead, then the anonymous ones.
    n_known = int((visitor_of >= 0).sum())
    n_vis = n_known + n_anon
    vis_touch = visitor >= 0
    seen_init = np.full(n_vis, np.iinfo(np.int64).max)
    np.minimum.at(seen_init, visitor[vis_touch], at[vis_touch])
    known_leads = np.flatnonzero(visitor_of >= 0)
    identified = np.full(n_vis, NULL)
    identified[:n_known] = leads.created[known_leads]
    seen = np.where(
        seen_init == np.iinfo(np.int64).max,
        np.concatenate((leads.created[known_leads], anon_first_seen)),
        seen_init,
    )
    visitors = Table("visitors")
    visitors.add("id", "int", np.arange(1, n_vis + 1))
    visitors.add(
        "visitor_key",
        "str",
        np.char.add("v_", random_tokens(rng, n_vis, 22, "0123456789abcdefghijklmnopqrstuvwxyz")).astype(
            object
        ),
    )
    visitors.add("site_id", "int", np.ones(n_vis, dtype=np.int64))
    visitors.add("lead_id", "int", np.concatenate((known_leads + 1, np.full(n_anon, NULL))))
    visitors.add("first_seen_at", "ts", seen)
    visitors.add("identified_at", "ts", identified)

    # Each lead's first touch (anonymous touches included): rows are in time order, so the first seen.
    with_lead = np.flatnonzero(lead >= 0)
    unique_leads, first_pos = np.unique(lead[with_lead], return_index=True)
    first_touch = np.full(leads.n, -1)
    first_touch[unique_leads] = with_lead[first_pos]
    return table, visitors, first_touch


def campaign_spend(rng: np.random.Generator, leads: Leads, *, start: int, end: int, offset: int) -> Table:
    """Daily spend of paid campaigns, following the leads each brought (TWD minor units)."""
    first_day, last_day = (start + offset) // DAY, (end + offset) // DAY
    days = np.arange(first_day, last_day)
    nd = len(days)
    lead_day = (leads.created + offset) // DAY - first_day
    rows = []
    for c, spec in enumerate(ref.CAMPAIGNS):
        cpl = spec[7]
        if cpl == 0:
            continue
        per_day = np.bincount(lead_day[leads.campaign == c], minlength=nd)[:nd].astype(float)
        smooth = np.convolve(per_day, np.ones(7) / 7, mode="same")
        twd = cpl * (0.6 * per_day + 0.4 * smooth + 0.2) * rng.lognormal(0, 0.2, nd)
        cpc = {"Paid Search": 38.0, "Paid Social": 12.0, "Display": 6.0, "Messaging": 3.0}.get(spec[1], 0.0)
        clicks = np.where(cpc > 0, np.round(twd / max(cpc, 1.0)), 0).astype(np.int64)
        impressions = (clicks * rng.uniform(40, 120, nd)).astype(np.int64)
        source = {
            "google": "google_ads",
            "bing": "microsoft_ads",
            "facebook": "meta_ads",
            "instagram": "meta_ads",
        }.get(spec[2], "manual")
        rows.append(
            (
                np.full(nd, c + 1),
                days,
                np.round(twd * 100).astype(np.int64),
                clicks,
                impressions,
                source,
                spec[1],
            )
        )
    campaign_id = np.concatenate([r[0] for r in rows])
    table = Table("campaign_spend")
    table.add("id", "int", np.arange(1, len(campaign_id) + 1))
    table.add("campaign_id", "int", campaign_id)
    table.add("spend_date", "date", np.concatenate([r[1] for r in rows]))
    table.add("channel", "str", [ch for r in rows for ch in [r[6]] * nd])
    table.add("amount_minor", "int", np.concatenate([r[2] for r in rows]))
    table.add("currency", "str", [ref.REPORTING_CURRENCY] * len(campaign_id))
    table.add("impressions", "int", np.concatenate([r[4] for r in rows]))
    table.add("clicks", "int", np.concatenate([r[3] for r in rows]))
    table.add("source", "str", [s for r in rows for s in [r[5]] * nd])
    return table
