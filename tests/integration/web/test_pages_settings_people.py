"""Settings: users, teams and API keys on the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from sqlalchemy import select
from tests.integration.web.settings_world import ROLES, XSS, make_world, no_raw_script, signed_in

from closedloop.audit.models import AuditLog
from closedloop.users.models import ApiKey, Team, User
from closedloop.users.passwords import hash_token


def test_admin_adds_a_user_in_a_new_team_issues_a_key_once_and_revokes_it(store) -> None:
    world = make_world(store)
    admin, csrf = signed_in(world, "admin")
    # Errors come back next to their field, with what was typed escaped.
    bad = admin.post("/settings/users/new", data={"csrf_token": csrf, "email": "nope", "name": XSS, "role": "sales",
                                                  "password": "long-enough-password"})  # fmt: skip
    assert bad.status_code == 422 and 'id="err-email"' in bad.text and no_raw_script(bad.text)
    short = admin.post("/settings/users/new", data={"csrf_token": csrf, "email": "a@x.tw", "role": "sales",
                                                    "password": "short"})  # fmt: skip
    assert short.status_code == 422 and 'id="err-password"' in short.text
    assert admin.post("/settings/users/teams/new", data={"csrf_token": csrf, "team_name": XSS, "kind": "sales"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    dup = admin.post(
        "/settings/users/teams/new", data={"csrf_token": csrf, "team_name": XSS, "kind": "sales"}
    )
    assert dup.status_code == 422 and 'id="err-team_name"' in dup.text
    with store.session() as s:
        team_id = s.scalar(select(Team.id).where(Team.name == XSS))
    created = admin.post("/settings/users/new", data={"csrf_token": csrf, "email": "New.Rep@X.tw", "name": XSS,
                                                      "role": "sales", "team_id": str(team_id),
                                                      "password": "long-enough-password"}, follow_redirects=False)  # fmt: skip
    assert created.status_code == 303
    page = admin.get("/settings/users")
    assert no_raw_script(page.text) and page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2
    with store.session() as s:
        rep = s.scalar(select(User).where(User.email == "new.rep@x.tw"))
        assert rep.team_id == team_id and rep.role == "sales" and rep.password_hash.startswith("$argon2")
        rep_id = rep.id
    signed_in(world, "sales", email="new.rep@x.tw", password="long-enough-password")
    # Move to the manager role and no team.
    assert admin.post(f"/settings/users/{rep_id}", data={"csrf_token": csrf, "role": "manager", "team_id": ""},
                      follow_redirects=False).status_code == 303  # fmt: skip
    # A key: at least one scope, shown once, stored as a hash.
    none = admin.post("/settings/users/keys/new", data={"csrf_token": csrf, "key_user_id": str(rep_id)})
    assert none.status_code == 422 and 'id="err-scopes"' in none.text
    made = admin.post("/settings/users/keys/new", data={"csrf_token": csrf, "key_user_id": str(rep_id),
                                                       "key_name": "crm sync", "scopes": ["read"]})  # fmt: skip
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    key = re.search(r'value="(cl_[^"]+)"', made.text).group(1)
    assert key not in admin.get("/settings/users").text
    with store.session() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.user_id == rep_id))
        assert row.key_hash == hash_token(key) and key not in row.key_hash and row.scopes == ["read"]
        key_id = row.id
    assert admin.get("/api/v1/leads", headers={"Authorization": f"Bearer {key}"}).status_code != 401
    assert admin.post(f"/settings/users/keys/{key_id}/revoke", data={"csrf_token": csrf},
                      follow_redirects=False).status_code == 303  # fmt: skip
    with store.session() as s:
        assert s.get(ApiKey, key_id).revoked_at is not None
        actions = set(s.scalars(select(AuditLog.action).where(AuditLog.action.in_(
            ["team.created", "user.created", "user.updated", "api_key.created", "api_key.revoked"]))))  # fmt: skip
        assert actions == {
            "team.created",
            "user.created",
            "user.updated",
            "api_key.created",
            "api_key.revoked",
        }


def test_a_leaver_hands_work_to_a_successor_and_only_admins_change_people(store) -> None:
    world = make_world(store)
    admin, csrf = signed_in(world, "admin")
    with store.session() as s:
        rep = s.scalar(select(User).where(User.email == "sales01@demo.closedloop.example"))
        other = s.scalar(select(User).where(User.email == "sales02@demo.closedloop.example"))
        rep_id, other_id = rep.id, other.id
    for role in ROLES:
        if role == "admin":
            continue
        client, their_csrf = signed_in(world, role)
        for path, data in ((f"/settings/users/{rep_id}", {"role": "viewer"}),
                           (f"/settings/users/{rep_id}/deactivate", {"successor_id": str(other_id)}),
                           ("/settings/users/new", {"email": "z@x.tw", "role": "admin", "password": "x" * 20}),
                           ("/settings/users/keys/new", {"key_user_id": str(rep_id), "scopes": ["write"]})):  # fmt: skip
            assert client.post(path, data={"csrf_token": their_csrf, **data}).status_code == 403, (role, path)
    # The manager reads the people but sees no forms and no keys.
    manager, _ = signed_in(world, "manager")
    text = manager.get("/settings/users").text
    assert "table-users" in text and "table-keys" not in text and 'action="/settings/users/new"' not in text
    no_successor = admin.post(
        f"/settings/users/{rep_id}/deactivate", data={"csrf_token": csrf, "successor_id": ""}
    )
    assert no_successor.status_code == 422 and f'id="err-successor-{rep_id}"' in no_successor.text
    done = admin.post(f"/settings/users/{rep_id}/deactivate", data={"csrf_token": csrf, "successor_id": str(other_id)},
                      follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    with store.session() as s:
        assert s.get(User, rep_id).is_active is False
        assert (
            s.scalar(select(AuditLog.action).where(AuditLog.action == "user.deactivated"))
            == "user.deactivated"
        )
