"""`closedloop score ...` and `/api/v1/predictive/...`: the JSON contract and who may do what."""

from __future__ import annotations

import json
import secrets

from fastapi.testclient import TestClient
from sqlalchemy import update

from closedloop.cli.main import main
from closedloop.config import Settings, get_settings
from closedloop.leads.models import Lead
from closedloop.users import service as user_service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app


def _run(monkeypatch, capsys, store, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", store.url)
    get_settings.cache_clear()
    capsys.readouterr()
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    get_settings.cache_clear()
    return code, out.out, out.err


def test_score_commands(store, seed_leads, monkeypatch, capsys) -> None:
    seed_leads(store)
    code, out, err = _run(
        monkeypatch, capsys, store, "score", "train", "--as-of", "2026-05-31", "--format", "json"
    )
    assert code == 0, err
    first = json.loads(out)
    for key in ("model_version", "target", "n_train", "n_test", "auc", "log_loss", "brier", "baseline_auc",
                "lift_top_decile"):  # fmt: skip
        assert key in first
    assert first["target"] == "won" and first["n_train"] + first["n_test"] == 760
    code, out, err = _run(monkeypatch, capsys, store, "score", "apply", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["scored"] == 40
    code, out, err = _run(monkeypatch, capsys, store, "score", "explain", "790", "--lang", "zh-TW")
    assert code == 0, err
    assert "僅供參考" in out and "推高的因素" in out
    code, _, err = _run(monkeypatch, capsys, store, "score", "rollback")
    assert code == 1 and "error:" in err  # only one version: nothing earlier to roll back to
    code, _, err = _run(monkeypatch, capsys, store, "score", "explain", "999999")
    assert code == 1


def test_predictive_api_by_role(store, seed_leads) -> None:
    seed_leads(store)
    actor = system_actor("cli")
    with store.session() as session:
        users = {role: user_service.create_user(session=session, actor=actor, email=f"{role}@corp.example",
                                                role=role, password=None)
                 for role in ("admin", "marketing", "sales", "viewer")}  # fmt: skip
        keys = {role: user_service.create_api_key(session=session, actor=actor, user=user, scopes=["read", "write"])[1]
                for role, user in users.items()}  # fmt: skip
        session.execute(update(Lead).where(Lead.id == 790).values(owner_id=users["sales"].id))
        session.commit()
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    with TestClient(app) as client:

        def call(method: str, path: str, role: str, **kw):
            return client.request(method, f"/api/v1/predictive/{path}",
                                  headers={"Authorization": f"Bearer {keys[role]}"}, **kw)  # fmt: skip

        assert (
            call("POST", "models/train", "sales", json={"as_of": "2026-06-01T00:00:00Z"}).status_code == 403
        )
        trained = call("POST", "models/train", "marketing", json={"as_of": "2026-06-01T00:00:00Z"})
        assert trained.status_code == 200, trained.text
        assert trained.json()["n_train"] + trained.json()["n_test"] == 760
        assert call("GET", "models", "viewer").status_code == 403
        assert [m["model_version"] for m in call("GET", "models", "sales").json()] == [
            trained.json()["model_version"]
        ]
        own = call("GET", "leads/790/explanation", "sales", params={"lang": "zh-CN"})
        assert own.status_code == 200, own.text
        body = own.json()
        assert abs(sum(body["contributions"].values()) - (body["logit"] - body["base_logit"])) < 1e-9
        assert call("GET", "leads/789/explanation", "sales").status_code == 404  # not its lead
        assert call("GET", "leads/789/explanation", "marketing").status_code == 200
        assert call("GET", "leads/790/explanation", "viewer").status_code == 403
        assert call("POST", "models/rollback", "sales", json={}).status_code == 403
        assert call("POST", "models/rollback", "admin", json={}).status_code == 404  # no earlier version
