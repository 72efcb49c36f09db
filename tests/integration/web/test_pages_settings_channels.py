"""Settings: the channel rules editor: ordered rows, preview, a new version, audited re-derivation (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from tests.integration.web.settings_world import XSS, make_world, no_raw_script, signed_in

from closedloop.audit.models import AuditLog
from closedloop.marketing import channels
from closedloop.marketing.models import CLICK_ID_FIELDS, Touchpoint
from closedloop.policies.models import PolicyVersion

EMAIL_FIRST = [{"medium_in": ["email", "newsletter"]}]


def _rows(rules: list[dict]) -> dict[str, str]:
    out = {}
    for i, rule in enumerate(rules):
        out |= {
            f"order-{i}": str(i + 2),
            f"channel-{i}": rule["channel"],
            f"when-{i}": json.dumps(rule["when"]),
        }
    return out


def _would_change(store, rules: list[dict]) -> int:
    """Independently: every rule-derived touch through the one-touch deriver."""
    t = Touchpoint
    with store.session() as s:
        rows = s.execute(select(t.channel, t.utm_source, t.utm_medium, t.utm_campaign, t.referrer,
                                *(getattr(t, c) for c in CLICK_ID_FIELDS)).where(t.channel_explicit.is_(False))).all()  # fmt: skip
    names = ["channel", "utm_source", "utm_medium", "utm_campaign", "referrer", *CLICK_ID_FIELDS]
    return sum(channels.derive_channel(dict(zip(names, r, strict=True)), rules) != r[0] for r in rows)


def test_edit_preview_propose_approve_and_rederive(store) -> None:
    world = make_world(store)
    marketing, csrf = signed_in(world, "marketing")
    page = marketing.get("/settings/channels")
    assert page.status_code == 200 and 'name="channel-0"' in page.text
    assert 'id="channel-rules-link"' in marketing.get("/campaigns").text
    # A new first rule ("Newsletter" for email mediums, ordered first by its order number), the rest as they are.
    new_rules = [*channels.DEFAULT_RULES, {"channel": XSS, "when": EMAIL_FIRST}]
    form = {"csrf_token": csrf, **_rows(new_rules), f"order-{len(new_rules) - 1}": "1"}
    preview = marketing.post("/settings/channels/preview", data=form)
    assert preview.status_code == 200 and no_raw_script(preview.text)
    ordered = [new_rules[-1], *channels.DEFAULT_RULES]
    expected = _would_change(store, ordered)
    assert expected > 0
    shown = re.search(r'id="preview-changed">(.*?)</strong>', preview.text).group(1)
    assert f"{expected:,}" in shown  # Babel's "#,##0" in every language
    bad = marketing.post("/settings/channels/preview", data={**form, "when-0": "[{oops"})
    assert bad.status_code == 422 and 'id="err-when-0"' in bad.text
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    late = marketing.post(
        "/settings/channels", data={**form, "effective_from": past, "reason": "email first"}
    )
    assert late.status_code == 422 and 'id="err-effective_from"' in late.text
    soon = (datetime.now(ZoneInfo("Asia/Taipei")) + timedelta(minutes=2)).strftime(
        "%Y-%m-%dT%H:%M"
    )  # the user's zone
    assert marketing.post("/settings/channels", data={**form, "effective_from": soon, "reason": "email first"},
                          follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        version = s.scalar(select(PolicyVersion).where(PolicyVersion.kind == "channel_rules",
                                                       PolicyVersion.status == "proposed"))  # fmt: skip
        vid = version.id
        assert version.payload["rules"][0] == {"channel": XSS, "when": EMAIL_FIRST}
    # Not approved yet: re-deriving under it is refused.
    assert marketing.post("/settings/channels/rederive", data={"csrf_token": csrf, "version_id": str(vid),
                                                               "confirm": "1"}).status_code == 409  # fmt: skip
    manager, mgr_csrf = signed_in(world, "manager")
    assert manager.post(f"/settings/policies/{vid}/approve", data={"csrf_token": mgr_csrf},
                        follow_redirects=False).status_code == 303  # fmt: skip
    unconfirmed = marketing.post(
        "/settings/channels/rederive", data={"csrf_token": csrf, "version_id": str(vid)}
    )
    assert unconfirmed.status_code == 422 and f'id="err-rederive-{vid}"' in unconfirmed.text
    assert marketing.post("/settings/channels/rederive", data={"csrf_token": csrf, "version_id": str(vid),
                                                               "confirm": "1"}, follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        run = s.scalar(select(AuditLog).where(AuditLog.action == "channel_rules.rederived"))
        assert run.after["changed"] == expected and run.actor_user_id is not None
        assert s.scalar(select(Touchpoint.id).where(Touchpoint.channel == XSS)) is not None
    assert _would_change(store, ordered) == 0
    text = marketing.get("/settings/channels").text
    assert (
        "table-rederive-runs" in text and no_raw_script(text) and "marketing@demo.closedloop.example" in text
    )
    for role in ("sales", "viewer"):
        client, their = signed_in(world, role)
        assert client.get("/settings/channels").status_code == 403
        assert client.post("/settings/channels/rederive", data={"csrf_token": their, "version_id": str(vid),
                                                                "confirm": "1"}).status_code == 403  # fmt: skip
        assert 'id="channel-rules-link"' not in client.get("/campaigns").text
    assert (
        marketing.post(
            "/settings/channels/rederive", data={"version_id": str(vid), "confirm": "1"}
        ).status_code
        == 403
    )
