"""Channel rules (SPEC section 3): ordered, versioned, editable; first match wins; default grouping.

A rule is `{"channel": name, "when": [alternative, ...]}`; it matches when any alternative
matches, and an alternative matches when all its tests hold. Tests: `<field>_in` (a list,
case-insensitive), `<field>_regex` (case-insensitive search) for the fields source, medium,
campaign and referrer_domain; `click_id` (any of the listed click ids present); `blank` (every
listed field empty). `derive_channel` (one touch) and `derive_channels` (a DataFrame) agree.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from closedloop.errors import ValidationFailed
from closedloop.i18n import translate
from closedloop.marketing.models import CLICK_ID_FIELDS
from closedloop.policies.models import PolicyVersion

if TYPE_CHECKING:
    import pandas as pd

CHANNELS = (
    "Paid Search",
    "Organic Search",
    "Paid Social",
    "Organic Social",
    "Email",
    "Display",
    "Affiliates",
    "Referral",
    "Messaging",
    "Events",
    "Direct",
    "Other",
)
FALLBACK = "Other"
KIND = "channel_rules"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

SEARCH_SOURCES = [
    "google", "bing", "yahoo", "baidu", "duckduckgo", "yandex", "naver", "sogou", "ecosia", "so.com", "360",
    "sm.cn", "ask", "seznam", "yahoo.com.tw",
]  # fmt: skip
SOCIAL_SOURCES = [
    "facebook", "fb", "instagram", "ig", "linkedin", "twitter", "x", "t.co", "youtube", "tiktok", "douyin",
    "weibo", "xiaohongshu", "xhs", "threads", "pinterest", "reddit", "dcard", "ptt", "bilibili", "zhihu",
    "snapchat", "meta",
]  # fmt: skip
MESSAGING_SOURCES = ["line", "line_oa", "wechat", "weixin", "whatsapp", "messenger", "telegram", "kakaotalk"]
PAID = r"^(.*cp.*|ppc|retargeting|paid.*|sem|ads?)$"
EMAIL = r"(^|[^a-z])(e[-_ ]?mail|newsletter|edm)([^a-z]|$)"
SEARCH_DOMAINS = (
    r"(^|\.)(google|bing|baidu|duckduckgo|yandex|naver|sogou|ecosia)\.[a-z.]+$|(^|\.)search\.yahoo\.[a-z.]+$"
)
SOCIAL_DOMAINS = [
    "facebook.com", "instagram.com", "linkedin.com", "lnkd.in", "t.co", "twitter.com", "x.com", "youtube.com",
    "tiktok.com", "weibo.com", "xiaohongshu.com", "threads.net", "pinterest.com", "reddit.com", "dcard.tw",
    "ptt.cc", "bilibili.com", "zhihu.com",
]  # fmt: skip
MESSAGING_DOMAINS = ["line.me", "weixin.qq.com", "wa.me", "whatsapp.com", "t.me", "m.me"]

DEFAULT_RULES: list[dict[str, Any]] = [
    {"channel": "Paid Search", "when": [
        {"click_id": ["gclid", "gbraid", "wbraid", "msclkid"]},
        {"source_in": SEARCH_SOURCES, "medium_regex": PAID},
    ]},
    {"channel": "Paid Social", "when": [
        {"click_id": ["ttclid", "li_fat_id"]},
        {"click_id": ["fbclid"], "medium_regex": PAID},
        {"source_in": SOCIAL_SOURCES + MESSAGING_SOURCES, "medium_regex": PAID},
        {"medium_in": ["paid_social", "paidsocial", "social_paid", "paid-social", "social-paid"]},
    ]},
    {"channel": "Display", "when": [
        {"medium_in": ["display", "banner", "expandable", "interstitial", "cpm", "native"]},
    ]},
    {"channel": "Affiliates", "when": [{"medium_in": ["affiliate", "affiliates"]}]},
    {"channel": "Email", "when": [{"source_regex": EMAIL}, {"medium_regex": EMAIL}]},
    {"channel": "Messaging", "when": [
        {"click_id": ["line_click_id"]},
        {"source_in": MESSAGING_SOURCES},
        {"medium_in": ["line", "wechat", "messaging", "im", "chat", "sms"]},
        {"referrer_domain_in": MESSAGING_DOMAINS},
    ]},
    {"channel": "Events", "when": [
        {"medium_in": ["event", "events", "webinar", "offline", "trade_show", "tradeshow", "seminar", "expo",
                       "conference", "booth"]},
        {"source_in": ["event", "events", "webinar", "trade_show", "tradeshow", "expo", "offline"]},
    ]},
    {"channel": "Organic Social", "when": [
        {"source_in": SOCIAL_SOURCES},
        {"medium_in": ["social", "social-network", "social-media", "sm", "social network", "social media"]},
        {"referrer_domain_in": SOCIAL_DOMAINS},
        {"click_id": ["fbclid"]},
    ]},
    {"channel": "Organic Search", "when": [
        {"medium_in": ["organic"]},
        {"source_in": SEARCH_SOURCES},
        {"referrer_domain_regex": SEARCH_DOMAINS},
    ]},
    {"channel": "Referral", "when": [
        {"medium_in": ["referral", "link", "app"]},
        {"blank": ["source"], "referrer_present": True},
    ]},
    {"channel": "Direct", "when": [
        {"source_in": ["(direct)", "direct"]},
        {"blank": ["source", "medium", "campaign", "referrer_domain", *CLICK_ID_FIELDS]},
    ]},
]  # fmt: skip

_FIELDS = {"source": "utm_source", "medium": "utm_medium", "campaign": "utm_campaign"}
_TEST = re.compile(r"^(source|medium|campaign|referrer_domain)_(in|regex)$")
_DOMAIN = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([^/:?#\s]+)", re.IGNORECASE)


def validate_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check a rule set's shape (channels named, tests known, regexes compile); returns it."""
    if not isinstance(rules, list) or not rules:
        raise ValidationFailed(translate("validator.channels.empty"), detail={"field": "rules"})
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not str(rule.get("channel", "")).strip():
            raise ValidationFailed(
                translate("validator.channels.no_channel", n=i + 1), detail={"field": f"rules[{i}].channel"}
            )
        for alternative in rule.get("when", []):
            for key, value in alternative.items():
                if key in ("click_id", "blank"):
                    if not isinstance(value, list):
                        raise ValidationFailed(
                            translate("validator.channels.list", n=i + 1, name=key), detail={"field": key}
                        )
                elif key == "referrer_present":
                    continue
                elif not _TEST.match(key):
                    raise ValidationFailed(
                        translate("validator.channels.test", n=i + 1, name=key), detail={"field": key}
                    )
                elif key.endswith("_regex"):
                    try:
                        re.compile(value)
                    except re.error as exc:
                        raise ValidationFailed(
                            translate("validator.channels.regex", n=i + 1, value=value, detail=str(exc))
                        ) from exc
    return rules


def referrer_domain(referrer: str | None) -> str:
    """The referrer's host without www. ("" when there is none)."""
    match = _DOMAIN.match((referrer or "").strip())
    return match.group(1).lower() if match else ""


def _touch_values(touch: dict[str, Any]) -> dict[str, str]:
    values = {name: str(touch.get(column) or "").strip().lower() for name, column in _FIELDS.items()}
    values["referrer_domain"] = referrer_domain(touch.get("referrer"))
    for click in CLICK_ID_FIELDS:
        values[click] = str(touch.get(click) or "").strip()
    return values


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _domain_in(domain: str, domains: list[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _alternative_matches(alt: dict[str, Any], v: dict[str, str]) -> bool:
    for key, expected in alt.items():
        if key == "click_id":
            ok = any(v.get(c) for c in expected)
        elif key == "blank":
            ok = all(not v.get(f) for f in expected)
        elif key == "referrer_present":
            ok = bool(v["referrer_domain"]) == bool(expected)
        else:
            field, test = _TEST.match(key).groups()  # type: ignore[union-attr]
            value = v[field]
            if test == "regex":
                ok = bool(_regex(expected).search(value))
            elif field == "referrer_domain":
                ok = bool(value) and _domain_in(value, [str(d).lower() for d in expected])
            else:
                ok = value in {str(x).lower() for x in expected}
        if not ok:
            return False
    return True


def derive_channel(touch: dict[str, Any], rules: list[dict[str, Any]] | None = None) -> str:
    """The channel of one touch (utm_*, referrer, click ids) under `rules` (default grouping if None)."""
    values = _touch_values(touch)
    for rule in rules or DEFAULT_RULES:
        if any(_alternative_matches(alt, values) for alt in rule.get("when", [])):
            return str(rule["channel"])
    return FALLBACK


def derive_channels(frame: pd.DataFrame, rules: list[dict[str, Any]] | None = None) -> pd.Series:
    """The channel of each touch in `frame` (columns as in `derive_channel`), vectorised."""
    import numpy as np
    import pandas as pd

    n = len(frame)

    def col(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].fillna("").astype(str).str.strip()
        return pd.Series([""] * n, index=frame.index, dtype=object)

    v: dict[str, pd.Series] = {name: col(column).str.lower() for name, column in _FIELDS.items()}
    v["referrer_domain"] = col("referrer").str.extract(_DOMAIN, expand=False).fillna("").str.lower()
    for click in CLICK_ID_FIELDS:
        v[click] = col(click)
    result = np.full(n, FALLBACK, dtype=object)
    pending = np.ones(n, dtype=bool)
    for rule in rules or DEFAULT_RULES:
        hit = np.zeros(n, dtype=bool)
        for alt in rule.get("when", []):
            hit |= _alternative_mask(alt, v, n)
        take = hit & pending
        result[take] = str(rule["channel"])
        pending &= ~take
        if not pending.any():
            break
    return pd.Series(result, index=frame.index, dtype=object)


def _alternative_mask(alt: dict[str, Any], v: dict[str, Any], n: int) -> Any:
    import numpy as np

    mask = np.ones(n, dtype=bool)
    for key, expected in alt.items():
        if key == "click_id":
            part = np.zeros(n, dtype=bool)
            for c in expected:
                part |= (v[c] != "").to_numpy()
        elif key == "blank":
            part = np.ones(n, dtype=bool)
            for f in expected:
                part &= (v[f] == "").to_numpy()
        elif key == "referrer_present":
            part = ((v["referrer_domain"] != "") == bool(expected)).to_numpy()
        else:
            field, test = _TEST.match(key).groups()  # type: ignore[union-attr]
            series = v[field]
            if test == "regex":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # groups in a user's regex are fine here
                    part = series.str.contains(_regex(expected), regex=True).to_numpy(dtype=bool)
            elif field == "referrer_domain":
                domains = [str(d).lower() for d in expected]
                pattern = "(?:^|\\.)(?:" + "|".join(re.escape(d) for d in domains) + ")$"
                part = ((series != "") & series.str.contains(pattern, regex=True)).to_numpy(dtype=bool)
            else:
                part = series.isin({str(x).lower() for x in expected}).to_numpy()
        mask &= part
    return mask


def rules_in_force(session: Session, *, at: datetime) -> PolicyVersion:
    """The approved channel-rules version in force at `at`; the default grouping (v1) if none yet."""
    version = session.scalar(
        select(PolicyVersion)
        .where(
            PolicyVersion.kind == KIND, PolicyVersion.status == "approved", PolicyVersion.effective_from <= at
        )
        .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.version.desc())
        .limit(1)
    )
    if version is not None:
        return version
    existing = session.scalar(
        select(PolicyVersion).where(PolicyVersion.kind == KIND, PolicyVersion.version == 1)
    )
    if existing is not None:
        return existing
    version = PolicyVersion(
        kind=KIND,
        version=1,
        effective_from=EPOCH,
        payload={"rules": DEFAULT_RULES},
        reason="Default channel grouping (SPEC section 3)",
        status="approved",
        approved_at=EPOCH,
    )
    try:
        # Two processes may seed at once on a store that was never seeded: the loser reads the winner's.
        with session.begin_nested():
            session.add(version)
    except IntegrityError:
        return session.scalars(
            select(PolicyVersion).where(PolicyVersion.kind == KIND, PolicyVersion.version == 1)
        ).one()
    return version


def rules_of(version: PolicyVersion) -> list[dict[str, Any]]:
    """The rule list stored in a channel-rules policy version."""
    rules = (version.payload or {}).get("rules")
    return rules if isinstance(rules, list) else DEFAULT_RULES


def propose_rules(
    *,
    session: Session,
    rules: list[dict[str, Any]],
    reason: str,
    actor: Any,
    effective_from: datetime,
    clock: Any,
) -> PolicyVersion:
    """A new proposed version of the channel rules; it takes effect once approved (SPEC section 4)."""
    from sqlalchemy import func

    from closedloop.audit import service as audit_service

    validate_rules(rules)
    rules_in_force(session, at=clock())  # make sure the default v1 exists before numbering
    latest = session.scalar(select(func.max(PolicyVersion.version)).where(PolicyVersion.kind == KIND)) or 0
    version = PolicyVersion(
        kind=KIND,
        version=latest + 1,
        effective_from=effective_from,
        payload={"rules": rules},
        reason=reason,
        proposed_by_id=actor.user_id,
        status="proposed",
        created_at=clock(),
    )
    session.add(version)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="channel_rules.proposed",
        entity_type="policy_version",
        entity_id=version.id,
        after={"version": version.version, "effective_from": effective_from, "reason": reason},
        clock=clock,
    )
    return version


def rederive_channels(
    *,
    session: Session,
    actor: Any,
    clock: Any,
    version_id: int | None = None,
    chunk_size: int = 50_000,
) -> dict[str, Any]:
    """Re-derive every rule-derived touch's channel under one rules version; one audited action.

    Touches whose channel came from the imported row are left alone. Leads' first_channel follows.
    """
    import pandas as pd
    from sqlalchemy import bindparam, update

    from closedloop.audit import service as audit_service
    from closedloop.leads.models import Lead
    from closedloop.marketing.models import Touchpoint

    version = session.get(PolicyVersion, version_id) if version_id else rules_in_force(session, at=clock())
    if version is None or version.kind != KIND:
        raise ValidationFailed(
            translate("validator.channels.version", id=version_id), detail={"field": "version_id"}
        )
    rules = validate_rules(rules_of(version))
    t = Touchpoint.__table__
    columns = [t.c.id, t.c.channel, t.c.utm_source, t.c.utm_medium, t.c.utm_campaign, t.c.referrer]
    columns += [t.c[c] for c in CLICK_ID_FIELDS]
    moves: dict[str, int] = {}
    changed = 0
    last_id = 0
    statement = (
        update(t)
        .where(t.c.id == bindparam("b_id"))
        .values(channel=bindparam("b_channel"), channel_policy_version_id=version.id)
    )
    while True:
        rows = session.execute(
            select(*columns)
            .where(t.c.id > last_id, t.c.channel_explicit.is_(False))
            .order_by(t.c.id)
            .limit(chunk_size)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        frame = pd.DataFrame([r._asdict() for r in rows])
        frame["new"] = derive_channels(frame, rules)
        diff = frame[frame["new"] != frame["channel"]]
        if len(diff):
            session.execute(
                statement,
                [{"b_id": int(i), "b_channel": c} for i, c in zip(diff["id"], diff["new"], strict=True)],
            )
            for (old, new), n in diff.groupby(["channel", "new"]).size().items():
                moves[f"{old} -> {new}"] = moves.get(f"{old} -> {new}", 0) + int(n)
            changed += len(diff)
    if changed:
        first = (
            select(t.c.channel)
            .where(t.c.lead_id == Lead.id)
            .order_by(t.c.occurred_at, t.c.id)
            .limit(1)
            .scalar_subquery()
        )
        session.execute(update(Lead).where(Lead.first_touch_at.is_not(None)).values(first_channel=first))
    session.flush()
    summary = {"version": version.version, "version_id": version.id, "changed": changed, "moves": moves}
    audit_service.record(
        session,
        actor=actor,
        action="channel_rules.rederived",
        entity_type="policy_version",
        entity_id=version.id,
        after=summary,
        clock=clock,
    )
    return summary
