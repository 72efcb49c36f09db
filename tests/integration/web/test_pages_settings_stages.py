"""Settings > pipeline stages: an admin adds a stage and reorders them, audited; probabilities stay a proposal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.integration.web.settings_world import XSS, make_world, no_raw_script, signed_in

from closedloop.audit.models import AuditLog
from closedloop.db import unit_of_work
from closedloop.deals import service as deal_service
from closedloop.deals import stages as deal_stages
from closedloop.deals.models import PipelineStage
from closedloop.errors import ValidationFailed
from closedloop.policies.models import PolicyVersion
from closedloop.users.actor import system_actor

DEFAULT = ["initial_contact", "needs_analysis", "proposal", "negotiation", "won", "lost"]  # SPEC section 2
NAMES = {"new-name-en": "Technical review", "new-name-zh-TW": "技術審查", "new-name-zh-CN": "技术审查"}


def _order(store) -> list[str]:
    with store.session() as s:
        return list(s.scalars(select(PipelineStage.key).order_by(PipelineStage.position, PipelineStage.id)))


def _audit(store, action: str) -> list[AuditLog]:
    with store.session() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


@pytest.fixture
def world(store):
    return make_world(store, leads=60)


def test_admin_adds_a_stage_where_asked_and_it_waits_for_its_probability(world, store) -> None:
    assert _order(store) == DEFAULT
    admin, csrf = signed_in(world, "admin")
    page = admin.get("/settings/pipeline").text
    assert 'id="add-stage"' in page and 'name="new-name-zh-CN"' in page
    form = {"csrf_token": csrf, "key": "technical_review", "forecast_category": "best_case",
            "after": "needs_analysis", **NAMES}  # fmt: skip

    bad_key = admin.post("/settings/pipeline/stages", data={**form, "key": "Tech Review"})
    assert bad_key.status_code == 422 and 'id="err-new-key"' in bad_key.text
    taken = admin.post("/settings/pipeline/stages", data={**form, "key": "proposal"})
    assert taken.status_code == 409 and 'id="err-new-key"' in taken.text
    unnamed = admin.post("/settings/pipeline/stages", data={**form, "new-name-zh-CN": " "})
    assert unnamed.status_code == 422 and 'id="err-new-name-zh-CN"' in unnamed.text
    after_won = admin.post("/settings/pipeline/stages", data={**form, "after": "won"})
    assert after_won.status_code == 422
    assert _order(store) == DEFAULT and _audit(store, "pipeline_stage.added") == []

    added = admin.post("/settings/pipeline/stages", data={**form, "new-name-en": XSS}, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/settings/pipeline?done=added"
    assert _order(store) == ["initial_contact", "needs_analysis", "technical_review", "proposal", "negotiation",
                             "won", "lost"]  # fmt: skip
    with store.session() as s:
        stage = s.scalars(select(PipelineStage).where(PipelineStage.key == "technical_review")).one()
        assert (stage.outcome, stage.forecast_category, float(stage.probability)) == (
            "open",
            "best_case",
            0.0,
        )
        assert stage.names == {"en": XSS, "zh-TW": "技術審查", "zh-CN": "技术审查"}
    [entry] = _audit(store, "pipeline_stage.added")
    assert entry.after["order"][2] == "technical_review" and entry.actor_user_id is not None
    page = admin.get("/settings/pipeline").text
    assert no_raw_script(page) and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Without a position it goes after the last open stage.
    form2 = {**form, "key": "legal_review", "after": ""}
    assert admin.post("/settings/pipeline/stages", data=form2, follow_redirects=False).status_code == 303
    assert _order(store)[-3:] == ["legal_review", "won", "lost"]

    # Its win probability is a shared definition: sales proposes it like the others.
    sales, sales_csrf = signed_in(world, "sales")
    proposal_form = sales.get("/settings/pipeline").text
    assert 'name="prob-technical_review"' in proposal_form and 'id="add-stage"' not in proposal_form
    open_keys = [k for k in _order(store) if k not in ("won", "lost")]
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    probabilities = {f"prob-{k}": "30" for k in open_keys} | {"prob-technical_review": "40"}
    sent = sales.post("/settings/pipeline/probabilities", follow_redirects=False,
                      data={"csrf_token": sales_csrf, "effective_from": when, "reason": "new stage", **probabilities})  # fmt: skip
    assert sent.status_code == 303
    with store.session() as s:
        version = s.scalars(select(PolicyVersion).where(PolicyVersion.kind == "stage_probabilities")
                            .order_by(PolicyVersion.id.desc())).first()  # fmt: skip
    assert version.status == "proposed" and version.payload["technical_review"] == "0.4"


def test_admin_moves_stages_up_and_down_never_an_open_one_after_won(world, store) -> None:
    admin, csrf = signed_in(world, "admin")
    page = admin.get("/settings/pipeline").text
    # Offered moves: not the first up, not the last open stage down past won, not won up past it.
    assert 'value="initial_contact:up"' not in page and 'value="initial_contact:down"' in page
    assert 'value="negotiation:up"' in page and 'value="negotiation:down"' not in page
    assert 'value="won:up"' not in page and 'value="won:down"' in page and 'value="lost:down"' not in page
    assert re.search(r'<button[^>]*value="proposal:up"[^>]*aria-label="[^"]+"', page)

    up = admin.post(
        "/settings/pipeline/order", data={"csrf_token": csrf, "move": "proposal:up"}, follow_redirects=False
    )
    assert up.status_code == 303
    assert _order(store) == ["initial_contact", "proposal", "needs_analysis", "negotiation", "won", "lost"]
    down = admin.post(
        "/settings/pipeline/order", data={"csrf_token": csrf, "move": "won:down"}, follow_redirects=False
    )
    assert down.status_code == 303
    assert _order(store) == ["initial_contact", "proposal", "needs_analysis", "negotiation", "lost", "won"]
    # Posted by hand, a move that puts an open stage after a closed one is refused and changes nothing.
    refused = admin.post("/settings/pipeline/order", data={"csrf_token": csrf, "move": "negotiation:down"})
    assert refused.status_code == 422 and 'id="err-order"' in refused.text
    assert _order(store) == ["initial_contact", "proposal", "needs_analysis", "negotiation", "lost", "won"]
    moves = _audit(store, "pipeline_stage.reordered")
    assert [m.after["order"][1] for m in moves] == ["proposal", "proposal"]
    assert moves[0].before == {"order": DEFAULT}
    # The pipeline board and the deal service follow the new order.
    assert [s.key for s in _stages(store)][:3] == ["initial_contact", "proposal", "needs_analysis"]


def _stages(store) -> list[PipelineStage]:
    with store.session() as s:
        return deal_service.stages(s)


def test_only_admins_add_or_reorder(world, store) -> None:
    for role in ("manager", "sales"):
        client, csrf = signed_in(world, role)
        assert client.get("/settings/pipeline").status_code == 200
        assert 'id="add-stage"' not in client.get("/settings/pipeline").text
        form = {"csrf_token": csrf, "key": "technical_review", "after": "", **NAMES}
        assert client.post("/settings/pipeline/stages", data=form).status_code == 403
        assert (
            client.post(
                "/settings/pipeline/order", data={"csrf_token": csrf, "move": "proposal:up"}
            ).status_code
            == 403
        )
    marketing, csrf = signed_in(world, "marketing")
    assert (
        marketing.post(
            "/settings/pipeline/order", data={"csrf_token": csrf, "move": "proposal:up"}
        ).status_code
        == 403
    )
    admin, _ = signed_in(world, "admin")
    assert (
        admin.post(
            "/settings/pipeline/order", data={"csrf_token": "forged", "move": "proposal:up"}
        ).status_code
        == 403
    )
    assert _order(store) == DEFAULT


def test_the_service_refuses_incomplete_or_repeated_orders(store) -> None:
    with unit_of_work(store.session_factory) as s:
        for keys in (DEFAULT[:-1], [*DEFAULT, "won"], ["won", *DEFAULT[:4], "lost"], [*DEFAULT[:-1], "nope"]):
            with pytest.raises(ValidationFailed):
                deal_stages.reorder_stages(session=s, actor=system_actor(), keys=keys)
        with pytest.raises(ValidationFailed):
            deal_stages.add_stage(
                session=s, actor=system_actor(), key="x", names={"en": "x", "zh-TW": "x", "zh-CN": "x"}
            )
    assert _order(store) == DEFAULT
