"""Accounts (customer companies) and leads (people) with identities, firmographics and lead quality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from closedloop.demo import names as nm
from closedloop.demo import reference as ref
from closedloop.demo.calendars import BusinessClock
from closedloop.demo.frame import DAY, HOUR, pick, random_tokens, rank_in_group

REGION_GROUP = {"北區": 0, "中區": 0, "南區": 0, "華東": 1, "华南": 1, "APAC": 2}  # TW, CN, APAC
SOURCE_TYPES = ("inbound", "outbound", "partner_referral")
CHANNEL_NAMES = [c[0] for c in ref.CHANNELS]
HEX = "0123456789abcdef"
ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class Accounts:
    n: int
    region: np.ndarray
    country: np.ndarray
    industry: np.ndarray
    size: np.ndarray
    name: list[str]
    domain: list[str]
    tax_id: list[str | None]
    employees: np.ndarray


@dataclass
class Leads:
    n: int
    created: np.ndarray
    account: np.ndarray  # index into accounts, -1 for none
    region: np.ndarray
    country: np.ndarray
    industry: np.ndarray  # -1 for unknown
    size: np.ndarray  # -1 for unknown
    source: np.ndarray  # index into SOURCE_TYPES
    channel: np.ndarray  # acquisition channel index, -1 for none (outbound)
    campaign: np.ndarray  # campaign index, -1 for none
    quality: np.ndarray
    lead_type: np.ndarray  # str


def make_accounts(rng: np.random.Generator, n: int) -> Accounts:
    """Customer companies with 統一編號 (TW) or 统一社会信用代码 (CN), domains and firmographics."""
    region = pick(rng, n, [r[4] for r in ref.REGIONS])
    country = np.empty(n, dtype="U2")
    for r, spec in enumerate(ref.REGIONS):
        mask = region == r
        codes = [c for c, _ in spec[6]]
        country[mask] = np.array(codes)[pick(rng, int(mask.sum()), [w for _, w in spec[6]])]
    industry = pick(rng, n, [i[3] for i in ref.INDUSTRIES])
    size = pick(rng, n, [s[3] for s in ref.COMPANY_SIZES])
    lows = np.array([s[4][0] for s in ref.COMPANY_SIZES])
    highs = np.array([s[4][1] for s in ref.COMPANY_SIZES])
    employees = rng.integers(lows[size], highs[size] + 1)
    a, b, c = rng.integers(0, 12, n), rng.integers(0, 12, n), rng.integers(0, 4, n)
    e1, e2 = rng.integers(0, len(nm.COMPANY_WORDS_EN), n), rng.integers(0, len(nm.COMPANY_SUFFIX_EN), n)
    cn_a, cn_b = (
        rng.integers(0, len(nm.COMPANY_WORDS_CN), n),
        rng.integers(0, len(nm.COMPANY_SUFFIX_CN), n),
    )
    company_names, domains = [], []
    for i, (cc, x, y, z, p, q, u, v) in enumerate(
        zip(
            country.tolist(),
            a.tolist(),
            b.tolist(),
            c.tolist(),
            e1.tolist(),
            e2.tolist(),
            cn_a.tolist(),
            cn_b.tolist(),
            strict=True,
        )
    ):
        if cc == "TW":
            w1, w2, suffix = nm.COMPANY_WORDS_TW[x], nm.COMPANY_WORDS_TW[y], nm.COMPANY_SUFFIX_TW[z]
            company_names.append(f"{w1[0]}{w2[0]}{suffix[0]}")
            domains.append(f"{w1[1]}{w2[1]}-{i + 1}.com.tw")
        elif cc == "CN":
            w, suffix = nm.COMPANY_WORDS_CN[u], nm.COMPANY_SUFFIX_CN[v % len(nm.COMPANY_SUFFIX_CN)]
            company_names.append(f"{nm.COMPANY_WORDS_CN[x % 8][0]}{w[0]}{suffix[0]}")
            domains.append(f"{w[1]}{suffix[1]}-{i + 1}.cn")
        else:
            word, suffix = nm.COMPANY_WORDS_EN[p], nm.COMPANY_SUFFIX_EN[q]
            company_names.append(f"{word} {nm.COMPANY_WORDS_EN[x % 10]} {suffix}")
            domains.append(f"{word.lower().replace(' ', '')}-{i + 1}.{cc.lower()}")
    tax_id = _tax_ids(rng, country)
    return Accounts(n, region, country, industry, size, company_names, domains, tax_id, employees)


def _tax_ids(rng: np.random.Generator, country: np.ndarray) -> list[str | None]:
    """Unique, checksum-valid 8-digit 統一編號 for TW; 18-character credit codes for CN; None elsewhere."""
    n = len(country)
    prefix = (np.arange(n, dtype=np.int64) * 7919 + int(rng.integers(0, 10**7))) % 10**7
    digits = np.stack([(prefix // 10 ** (6 - k)) % 10 for k in range(7)], axis=1)
    weights = np.array([1, 2, 1, 2, 1, 2, 4])
    products = digits * weights
    total = (products // 10 + products % 10).sum(axis=1)
    check = (-total) % 10
    tw = np.char.add(np.char.zfill(prefix.astype(str), 7), check.astype(str))
    cn_body = random_tokens(rng, n, 9, ALNUM)
    out: list[str | None] = []
    for i, cc in enumerate(country.tolist()):
        if cc == "TW":
            out.append(str(tw[i]))
        elif cc == "CN":
            out.append(f"9131{i:05d}{cn_body[i]}"[:18].ljust(18, "0"))
        else:
            out.append(None)
    return out


def lead_times(rng: np.random.Generator, n: int, *, start: int, end: int, clock: BusinessClock) -> np.ndarray:
    """Creation instants: growing over the period, quieter on weekends and holidays, office hours."""
    first_day, last_day = (start + clock.offset) // DAY, (end + clock.offset) // DAY
    days = np.arange(first_day, last_day)
    growth = 0.6 + 0.8 * (days - first_day) / max(1, len(days))
    working = clock.working[np.clip(days - clock.day0, 0, clock.days - 1)]
    day = days[pick(rng, n, growth * np.where(working, 1.0, 0.35))]
    hour_weights = np.array(
        [1, 1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 11, 7, 9, 11, 11, 10, 8, 6, 5, 5, 4, 3, 2], float
    )
    hour = pick(rng, n, hour_weights)
    ts = day * DAY - clock.offset + hour * HOUR + rng.integers(0, HOUR, n)
    return np.sort(np.clip(ts, start, end - 1))


def make_leads(
    rng: np.random.Generator, n: int, accounts: Accounts, *, start: int, end: int, clock: BusinessClock
) -> Leads:
    """Leads attached to accounts (bigger companies bring more people), with source and quality."""
    created = lead_times(rng, n, start=start, end=end, clock=clock)
    size_weight = np.array([s[2] for s in ref.COMPANY_SIZES])[accounts.size]
    popularity = size_weight * rng.pareto(2.5, accounts.n) + 0.2
    account = pick(rng, n, popularity)
    free_mail = rng.random(n) < 0.08
    account = np.where(free_mail, -1, account)
    region = np.where(free_mail, pick(rng, n, [r[4] for r in ref.REGIONS]), accounts.region[account])
    country = accounts.country[np.maximum(account, 0)].copy()
    for r, spec in enumerate(ref.REGIONS):
        mask = free_mail & (region == r)
        country[mask] = spec[6][0][0]
    industry = np.where(free_mail, -1, accounts.industry[account])
    size = np.where(free_mail, -1, accounts.size[account])
    source = pick(rng, n, [0.80, 0.13, 0.07])
    group = np.array([REGION_GROUP[r[0]] for r in ref.REGIONS])[region]
    channel = pick(rng, n, [c[1] for c in ref.CHANNELS])
    referral = CHANNEL_NAMES.index("Referral")
    channel = np.where(source == 2, referral, channel)
    channel = np.where(source == 1, -1, channel)
    campaign = _campaigns(rng, channel, group)
    campaign = np.where(source == 2, [c[0] for c in ref.CAMPAIGNS].index("合作夥伴推薦計畫"), campaign)
    quality = np.exp(rng.normal(0.0, 0.35, n))
    quality *= np.where(channel >= 0, np.array([c[2] for c in ref.CHANNELS])[np.maximum(channel, 0)], 1.3)
    quality *= np.where(
        campaign >= 0, np.array([c[6] for c in ref.CAMPAIGNS])[np.maximum(campaign, 0)] ** 0.5, 1.0
    )
    quality *= np.where(industry >= 0, np.array([i[1] for i in ref.INDUSTRIES])[np.maximum(industry, 0)], 0.5)
    quality *= np.where(size >= 0, np.array([s[1] for s in ref.COMPANY_SIZES])[np.maximum(size, 0)], 0.6)
    quality *= np.array([r[5] for r in ref.REGIONS])[region]
    lead_type = np.where((source == 2) & (rng.random(n) < 0.4), "partner", "new_customer").astype("U20")
    return Leads(
        n, created, account, region, country, industry, size, source, channel, campaign, quality, lead_type
    )


def _campaigns(rng: np.random.Generator, channel: np.ndarray, group: np.ndarray) -> np.ndarray:
    """A campaign of the lead's channel, preferring campaigns aimed at its region (-1: no campaign)."""
    out = np.full(len(channel), -1)
    focus = {"TW": 0, "CN": 1, "APAC": 2}
    for ch, name in enumerate(CHANNEL_NAMES):
        candidates = [i for i, c in enumerate(ref.CAMPAIGNS) if c[1] == name]
        if not candidates:
            continue
        for g in range(3):
            mask = (channel == ch) & (group == g)
            weights = np.array(
                [
                    1.0
                    if focus.get(ref.CAMPAIGNS[i][8]) == g
                    else (0.5 if ref.CAMPAIGNS[i][8] is None else 0.0)
                    for i in candidates
                ]
            )
            if weights.sum() == 0:
                weights = np.ones(len(candidates))
            out[mask] = np.array(candidates)[pick(rng, int(mask.sum()), weights)]
    return out


def identities(rng: np.random.Generator, leads: Leads, accounts: Accounts) -> dict[str, list]:
    """Names, normalised unique emails, E.164 phones, LINE user ids and WeChat unionids."""
    n = leads.n
    s_tw, g_tw = rng.integers(0, len(nm.SURNAMES_TW), n), rng.integers(0, len(nm.GIVEN_TW), n)
    s_cn, g_cn = rng.integers(0, len(nm.SURNAMES_CN), n), rng.integers(0, len(nm.GIVEN_CN), n)
    f_en, l_en = rng.integers(0, len(nm.FIRST_EN), n), rng.integers(0, len(nm.LAST_EN), n)
    free = rng.integers(0, 2, n)
    first, last, full, local, domain = [], [], [], [], []
    groups = ["TW", "CN", "APAC"]
    for i in range(n):
        cc = leads.country[i]
        if cc == "TW":
            (sn, sr), (gn, gr) = nm.SURNAMES_TW[s_tw[i]], nm.GIVEN_TW[g_tw[i]]
            first.append(gn), last.append(sn), full.append(sn + gn), local.append(f"{gr}.{sr}".lower())
        elif cc == "CN":
            (sn, sr), (gn, gr) = nm.SURNAMES_CN[s_cn[i]], nm.GIVEN_CN[g_cn[i]]
            first.append(gn), last.append(sn), full.append(sn + gn), local.append(f"{sr}{gr}")
        else:
            fn, ln = nm.FIRST_EN[f_en[i]], nm.LAST_EN[l_en[i]]
            first.append(fn), last.append(ln), full.append(f"{fn} {ln}")
            local.append(f"{fn}.{ln}".lower().replace(" ", ""))
        a = leads.account[i]
        if a >= 0:
            domain.append(accounts.domain[a])
        else:
            group = groups[REGION_GROUP[ref.REGIONS[leads.region[i]][0]]]
            domain.append(ref.FREE_MAIL[group][free[i]])
    base = np.array([f"{lp}@{dm}" for lp, dm in zip(local, domain, strict=True)])
    order = np.argsort(base, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_in_group(base[order])
    emails = [
        b if r == 0 else f"{lp}{r + 1}@{dm}"
        for b, r, lp, dm in zip(base.tolist(), rank.tolist(), local, domain, strict=True)
    ]
    return {
        "first_name": first,
        "last_name": last,
        "name": full,
        "email": emails,
        "phone": _phones(rng, leads.country),
        "line_user_id": _optional(rng, leads.country == "TW", 0.3, "U", 32, HEX),
        "wechat_unionid": _optional(rng, leads.country == "CN", 0.35, "o", 27, ALNUM + "abcdefghijk_-"),
        "title": np.array(nm.TITLES)[rng.integers(0, len(nm.TITLES), n)].tolist(),
    }


def _phones(rng: np.random.Generator, country: np.ndarray) -> list[str | None]:
    n = len(country)
    has = rng.random(n) < 0.6
    eight = rng.integers(10**7, 10**8, n)
    nine = rng.integers(10**8, 10**9, n)
    cn_prefix = (
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        157,
        158,
        159,
        186,
        187,
        188,
    )
    us_area = (212, 415, 646, 650, 408, 206, 312, 617)
    pick_cn = rng.integers(0, len(cn_prefix), n)
    hk_prefix = (510, 512, 513, 517, 520, 523, 530, 533, 540, 552)  # allocated mobile ranges
    sg_prefix = (801, 817, 833, 849, 865, 881, 905, 921, 937, 953)
    pick_hk = rng.integers(0, 10, n)
    pick_us = rng.integers(0, len(us_area), n)
    exchange = rng.integers(2, 10, n)
    formats = {
        "TW": lambda i: f"+8869{nine[i] % 10**8:08d}",
        "CN": lambda i: f"+86{cn_prefix[pick_cn[i]]}{eight[i]:08d}",
        "HK": lambda i: f"+852{hk_prefix[pick_hk[i]]}{eight[i] % 10**5:05d}",
        "SG": lambda i: f"+65{sg_prefix[pick_hk[i]]}{eight[i] % 10**5:05d}",
        "MY": lambda i: f"+6012{eight[i] % 10**7:07d}",
        "JP": lambda i: f"+8190{eight[i]:08d}",
        "US": lambda i: f"+1{us_area[pick_us[i]]}{exchange[i]}{eight[i] % 10**6:06d}",
    }
    return [
        formats[c](i) if h else None
        for i, (c, h) in enumerate(zip(country.tolist(), has.tolist(), strict=True))
    ]


def _optional(
    rng: np.random.Generator, eligible: np.ndarray, share: float, prefix: str, length: int, alphabet: str
) -> list[str | None]:
    n = len(eligible)
    has = eligible & (rng.random(n) < share)
    tokens = random_tokens(rng, n, length, alphabet)
    return [f"{prefix}{t}" if h else None for t, h in zip(tokens.tolist(), has.tolist(), strict=True)]
