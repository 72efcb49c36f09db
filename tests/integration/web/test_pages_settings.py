"""The settings hub and the shared definitions page on the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from tests.integration.web.settings_world import ROLES, XSS, make_world, no_raw_script, signed_in

from closedloop.audit.models import AuditLog
from closedloop.policies.models import PolicyApproval, PolicyVersion

# Worked out from SPEC section 1 (who owns what) and the access issue's role table.
AREAS = {
    "admin": {"/settings/policies", "/settings/users", "/settings/sites", "/settings/pipeline", "/settings/sla",
              "/settings/routing", "/settings/scoring", "/settings/channels"},
    "manager": {"/settings/policies", "/settings/users", "/settings/pipeline", "/settings/sla", "/settings/routing",
                "/settings/scoring", "/settings/channels"},
    "marketing": {"/settings/policies", "/settings/sites", "/settings/scoring", "/settings/channels"},
    "sales": {"/settings/policies", "/settings/pipeline", "/settings/sla", "/settings/routing"},
    "viewer": set(),
}  # fmt: skip
ALL_AREAS = set().union(*AREAS.values())


def test_every_settings_page_answers_each_role_as_the_table_says(store) -> None:
    world = make_world(store)
    for role in ROLES:
        client, _ = signed_in(world, role)
        hub = client.get("/settings")
        assert hub.status_code == (403 if role == "viewer" else 200), role
        assert ('href="/settings"' in client.get("/preferences").text) == (role != "viewer"), role
        for path in sorted(ALL_AREAS):
            response = client.get(path)
            assert response.status_code == (200 if path in AREAS[role] else 403), (role, path)
            if role != "viewer":
                assert (f'href="{path}"' in hub.text) == (path in AREAS[role]), (role, path)


def _sla(hours: int) -> str:
    return json.dumps({"sales": {"first_response_hours": hours, "accept_within_hours": 8}})


def test_a_proposal_needs_a_second_person_and_keeps_its_history(store) -> None:
    world = make_world(store)
    sales, sales_csrf = signed_in(world, "sales")
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    # No CSRF token: refused, nothing written.
    refused = sales.post("/settings/policies", data={"kind": "sla", "payload": _sla(4), "effective_from": when,
                                                      "reason": "x"})  # fmt: skip
    assert refused.status_code == 403
    # Bad JSON and a missing reason: the page again, each error next to its field.
    bad = sales.post("/settings/policies", data={"csrf_token": sales_csrf, "kind": "sla", "payload": "{oops",
                                                  "effective_from": when, "reason": XSS})  # fmt: skip
    assert bad.status_code == 422 and 'id="err-payload"' in bad.text
    assert no_raw_script(bad.text) and "&lt;script&gt;alert(1)&lt;/script&gt;" in bad.text
    no_reason = sales.post("/settings/policies", data={"csrf_token": sales_csrf, "kind": "sla", "payload": _sla(4),
                                                        "effective_from": when, "reason": " "})  # fmt: skip
    assert no_reason.status_code == 422 and 'id="err-reason"' in no_reason.text
    # Marketing may not propose the SLA (sales owns it).
    marketing, mkt_csrf = signed_in(world, "marketing")
    assert marketing.post("/settings/policies", data={"csrf_token": mkt_csrf, "kind": "sla", "payload": _sla(4),
                                                       "effective_from": when, "reason": "r"}).status_code == 403  # fmt: skip
    ok = sales.post("/settings/policies", data={"csrf_token": sales_csrf, "kind": "sla", "payload": _sla(4),
                                                 "effective_from": when, "reason": XSS}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    with store.session() as s:
        version = s.scalars(
            select(PolicyVersion).where(PolicyVersion.kind == "sla").order_by(PolicyVersion.id.desc())
        ).first()
        vid = version.id
        assert version.status == "proposed"
        assert version.payload == {"sales": {"first_response_hours": 4, "accept_within_hours": 8}}
    page = sales.get("/settings/policies")
    assert no_raw_script(page.text) and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert f'/settings/policies/{vid}/approve"' not in page.text  # not offered to the proposer
    # The approver sees what changes against the built-in SLA in force (4 hours, 24 to accept).
    diff = re.search(rf'<pre translate="no" id="diff-{vid}">(.*?)</pre>', page.text, re.S).group(1)
    assert '+    "accept_within_hours": 8' in html.unescape(
        diff
    ) and '-    "accept_within_hours": 24' in html.unescape(diff)
    # The proposer cannot approve their own proposal, even by posting the form.
    own = sales.post(f"/settings/policies/{vid}/approve", data={"csrf_token": sales_csrf})
    assert own.status_code == 403
    viewer, viewer_csrf = signed_in(world, "viewer")
    assert (
        viewer.post(f"/settings/policies/{vid}/approve", data={"csrf_token": viewer_csrf}).status_code == 403
    )
    # Marketing approves its side: still waiting for sales' side from another person.
    assert marketing.post(f"/settings/policies/{vid}/approve", data={"csrf_token": mkt_csrf},
                          follow_redirects=False).status_code == 303  # fmt: skip
    again = marketing.post(f"/settings/policies/{vid}/approve", data={"csrf_token": mkt_csrf})
    assert again.status_code == 409
    manager, mgr_csrf = signed_in(world, "manager")
    assert manager.post(f"/settings/policies/{vid}/approve", data={"csrf_token": mgr_csrf},
                        follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        version = s.get(PolicyVersion, vid)
        assert version.status == "approved"
        sides = sorted(s.scalars(select(PolicyApproval.side).where(PolicyApproval.policy_version_id == vid)))
        assert sides == ["marketing", "sales"]
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.entity_type == "policy_version",
                                                               AuditLog.entity_id == str(vid)).order_by(AuditLog.id)))  # fmt: skip
        assert actions == ["policy.proposed", "policy.approved", "policy.approved"]
    history = manager.get("/settings/policies?kind=sla").text
    assert f'id="proposal-{vid}"' not in history and "table-policy-history" in history


def test_a_rejection_needs_a_reason(store) -> None:
    world = make_world(store)
    marketing, mkt_csrf = signed_in(world, "marketing")
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    payload = json.dumps({"bands": {"A": 80, "B": 50, "C": 20}, "mql_threshold": 50})
    assert marketing.post("/settings/policies", data={"csrf_token": mkt_csrf, "kind": "scoring", "payload": payload,
                                                       "effective_from": when, "reason": "r"},
                          follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        vid = s.scalar(
            select(PolicyVersion.id).where(
                PolicyVersion.kind == "scoring", PolicyVersion.status == "proposed"
            )
        )
    sales, sales_csrf = signed_in(world, "sales")
    assert (
        sales.post(
            f"/settings/policies/{vid}/reject", data={"csrf_token": sales_csrf, "reason": ""}
        ).status_code
        == 422
    )
    assert sales.post(f"/settings/policies/{vid}/reject", data={"csrf_token": sales_csrf, "reason": "too strict"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        assert s.get(PolicyVersion, vid).status == "rejected"


def test_the_settings_catalogue_is_complete_in_three_languages() -> None:
    """Every settings message in en, zh-TW and zh-CN with the same placeholders; every key the pages use exists."""
    import re
    import string
    from pathlib import Path

    from closedloop.handoffs.routing import RULE_KEYS
    from closedloop.i18n import LANGUAGES
    from closedloop.i18n.catalog import MESSAGES
    from closedloop.i18n.messages.web_settings import MESSAGES as SETTINGS
    from closedloop.policies.models import POLICY_KINDS
    from closedloop.scoring.rules import BANDS  # noqa: F401  (bands are letters, not messages)
    from closedloop.users.models import ROLES, TEAM_KINDS
    from closedloop.users.service import API_KEY_SCOPES
    from closedloop.web.pages import settings_people, settings_sales

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, entry in SETTINGS.items():
        assert set(entry) == set(LANGUAGES) and all(entry[lang].strip() for lang in LANGUAGES), key
        assert fields(entry["en"]) == fields(entry["zh-TW"]) == fields(entry["zh-CN"]), key
        if " " in entry["en"] and not entry["en"].startswith("{"):
            assert entry["zh-TW"] != entry["en"] and entry["zh-CN"] != entry["en"], key
    web = Path(__file__).resolve().parents[3] / "src" / "closedloop" / "web"
    used: set[str] = set()
    for path in [
        *(web / "pages").glob("settings*.py"),
        *(web / "templates" / "pages").glob("settings*.html"),
    ]:
        used |= set(re.findall(r"""["'](web\.[a-z_.]*[a-z_]|users\.error\.[a-z_]+|deal\.error\.[a-z_]+)["']""",
                               path.read_text(encoding="utf-8")))  # fmt: skip
    assert used and used <= set(MESSAGES), sorted(used - set(MESSAGES))
    built = (
        [f"web.policy.{k}" for k in POLICY_KINDS]
        + [f"web.settings.status.{s}" for s in ("proposed", "approved", "rejected")]
        + [f"web.settings.side.{s}" for s in ("marketing", "sales")]
        + [f"web.settings.done.{d}" for d in ("proposed", "approved", "rejected")]
        + [f"web.settings{path.removeprefix('/settings').replace('/', '.')}{suffix}"
           for path in ("/settings/policies", "/settings/users", "/settings/sites", "/settings/pipeline",
                        "/settings/sla", "/settings/routing", "/settings/scoring", "/settings/channels")
           for suffix in ("", "_hint")]
        + [f"web.people.done.{d}" for d in settings_people.DONE]
        + [f"web.people.kind.{k}" for k in TEAM_KINDS]
        + [f"web.people.scope.{s}" for s in API_KEY_SCOPES]
        + [f"web.role.{r}" for r in ROLES]
        + [f"web.sla_settings.{name}" for _, name, _ in settings_sales.SLA_FIELDS]
        + [f"web.sla_settings.day.{d}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
        + [f"web.sla_settings.kind.{k}" for k in ("holiday", "workday")]
        + [f"web.routing_settings.key.{k}" for k in RULE_KEYS]
        + [f"web.pipeline_settings.outcome.{o}" for o in ("open", "won", "lost")]
        + [f"web.pipeline_settings.name_in.{lang}" for lang in LANGUAGES]
        + [f"web.sales_settings.done.{d}" for d in ("proposed", "saved")]
        + [f"web.sites.done.{d}" for d in ("created", "updated")]
        + [f"web.channels.done.{d}" for d in ("proposed", "rederived")]
    )  # fmt: skip
    assert not [k for k in built if k not in MESSAGES]
